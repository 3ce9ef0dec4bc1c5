from odoo import fields, models


class RepairOrder(models.Model):
    _inherit = "repair.order"

    rma_line_id = fields.Many2one(
        "rma.line", string="RMA Unit", readonly=True, copy=False, index="btree_not_null", ondelete="restrict"
    )
    rma_id = fields.Many2one(related="rma_line_id.rma_id", string="RMA", store=True, index="btree_not_null")
    rma_repair_level = fields.Selection(related="rma_line_id.repair_level", string="Repair Level")

    def action_view_rma(self):
        return self.rma_id._get_records_action(name=self.env._("RMA"))
