from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    rma_advance_remedy = fields.Boolean(
        string="Advance Remedies",
        help="A trusted customer: their returned units may be credited or replaced before they arrive (the unit must"
        " then arrive within the company's delay, or the RMA gets an activity).",
    )
