from odoo import fields, models


class RmaReason(models.Model):
    _name = "rma.reason"
    _inherit = ["rma.input.mixin"]
    _description = "Return Reason"
    _order = "sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    code = fields.Char(required=True, help="Short code used in reports and trend analysis.")
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company",
        help="Leave empty to share the reason between all companies.",
        default=lambda self: self.env.company,
        index=True,
    )
    is_proof_required = fields.Boolean(
        string="Proof of Purchase Required",
        default=True,
        help="An RMA with this reason cannot be authorized without a proof-of-purchase attachment.",
    )
    description = fields.Text(translate=True)

    # Shared reasons (no company) are unique among themselves too: NULL company counts as one value.
    _code_company_shared_uniq = models.UniqueIndex(
        "(code, COALESCE(company_id, 0))",
        "A return reason code must be unique per company, and among shared reasons.",
    )
