from odoo import api, models


class StockTraceabilityReport(models.TransientModel):
    _inherit = "stock.traceability.report"

    @api.model
    def _get_reference(self, move_line):
        # A returned unit's moves outside its receipt (disposition, custody handoffs, end of its refurbishment)
        # have no picking: the serial's traceability names the disposition batch or the RMA instead, to those who
        # may read them (Returns users, accountants).
        res_model, res_id, ref = super()._get_reference(move_line)
        move = move_line.move_id
        batches = self.env["rma.disposition.batch"]
        if not res_model and move.rma_line_id and batches.has_access("read"):
            batch = batches.search([("move_ids", "in", move.ids)], limit=1)
            if batch:
                return "rma.disposition.batch", batch.id, batch.name
            return "rma.order", move.rma_line_id.rma_id.id, move.rma_line_id.rma_id.name
        return res_model, res_id, ref
