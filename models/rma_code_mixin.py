from odoo import fields, models


class RmaCodeMixin(models.AbstractModel):
    """A configurable code of the returns workflow (grade, failure, disposition): per company or shared."""

    _name = "rma.code.mixin"
    _inherit = ["rma.input.mixin"]
    _description = "Returns Code"
    _order = "sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    code = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    description = fields.Text(translate=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", index=True, help="Leave empty to share it between companies.")

    # Shared codes (no company) are unique among themselves too: NULL company counts as one value.
    _code_company_shared_uniq = models.UniqueIndex(
        "(code, COALESCE(company_id, 0))", "A code must be unique per company, and among shared codes."
    )

    def _compute_display_name(self):
        for record in self:
            record.display_name = f"{record.code} - {record.name}"
