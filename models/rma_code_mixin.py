from odoo import fields, models


class RmaCodeMixin(models.AbstractModel):
    """A configurable code of the returns workflow (grade, failure, disposition): per company or shared."""

    _name = "rma.code.mixin"
    _description = "Returns Code"
    _order = "sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    code = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    description = fields.Text(translate=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", index=True, help="Leave empty to share it between companies.")

    _code_company_uniq = models.Constraint("UNIQUE(code, company_id)", "A code must be unique per company.")

    def _compute_display_name(self):
        for record in self:
            record.display_name = f"{record.code} - {record.name}"
