from odoo import fields, models


class RmaFailureCode(models.Model):
    _name = "rma.failure.code"
    _description = "Failure Code"
    _order = "sequence, code"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    code = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", index=True, help="Leave empty to share the code between companies.")

    _code_company_uniq = models.Constraint("UNIQUE(code, company_id)", "A failure code must be unique per company.")

    def _compute_display_name(self):
        for failure in self:
            failure.display_name = f"[{failure.code}] {failure.name}"
