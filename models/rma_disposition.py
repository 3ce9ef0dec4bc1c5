from odoo import fields, models


class RmaDisposition(models.Model):
    """A disposition code (RTS, REF, REP, PH, REC, SD): what happens to an inspected unit."""

    _name = "rma.disposition"
    _description = "Disposition Code"
    _order = "sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    code = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    description = fields.Text(translate=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", index=True, help="Leave empty to share the code between companies.")

    _code_company_uniq = models.Constraint("UNIQUE(code, company_id)", "A disposition code must be unique per company.")

    def _compute_display_name(self):
        for disposition in self:
            disposition.display_name = f"{disposition.code} - {disposition.name}"
