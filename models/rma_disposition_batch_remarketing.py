from odoo import models


class RmaDispositionBatch(models.Model):
    _inherit = "rma.disposition.batch"

    def _dispose_lines(self, lines):
        result = super()._dispose_lines(lines)
        # Restocked units are sold again as new: their serials say so, with their grade (stock.lot.rma_condition).
        lines.filtered(lambda line: line.treatment == "restock").unit_id._rma_set_lot_condition("new")
        return result
