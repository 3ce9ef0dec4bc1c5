from odoo import api, fields, models

from .rma_posting_lock import serialize_rma_postings
from .rma_workflow_guard import ensure_workflow_fields


class RepairOrder(models.Model):
    _inherit = "repair.order"

    rma_line_id = fields.Many2one(
        "rma.line", string="RMA Unit", readonly=True, copy=False, index="btree_not_null", ondelete="restrict"
    )
    rma_id = fields.Many2one(related="rma_line_id.rma_id", string="RMA", store=True, index="btree_not_null")
    rma_repair_level = fields.Selection(related="rma_line_id.repair_level", string="Repair Level")

    @api.model_create_multi
    def create(self, vals_list):
        # The link to a returned unit is set by the RMA flow only (see rma_workflow_guard).
        ensure_workflow_fields(self, {name for vals in vals_list for name in vals})
        return super().create(vals_list)

    def write(self, vals):
        ensure_workflow_fields(self, vals)
        return super().write(vals)

    def action_repair_end(self):
        # Finishing a returned unit's repair posts its closing entry in the RMA journal (see rma_posting_lock).
        serialize_rma_postings(self.env, self.filtered("rma_line_id").company_id)
        return super().action_repair_end()

    def action_repair_done(self):
        serialize_rma_postings(self.env, self.filtered("rma_line_id").company_id)
        return super().action_repair_done()

    def action_view_rma(self):
        return self.rma_id._get_records_action(name=self.env._("RMA"))
