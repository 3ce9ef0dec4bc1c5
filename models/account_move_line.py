from odoo import fields, models


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    rma_line_id = fields.Many2one(
        "rma.line", string="RMA Unit", readonly=True, copy=False, index="btree_not_null", ondelete="restrict"
    )
    rma_id = fields.Many2one(related="rma_line_id.rma_id", string="RMA", store=True, index="btree_not_null")
    rma_disposition_id = fields.Many2one(
        "rma.disposition", string="Disposition", readonly=True, copy=False, index="btree_not_null"
    )
