from odoo import api, fields, models


class StockMove(models.Model):
    _inherit = "stock.move"

    rma_line_id = fields.Many2one("rma.line", string="RMA Unit", index="btree_not_null", copy=False, readonly=True)

    @api.depends("rma_line_id.rma_id.name")
    def _compute_reference(self):
        # Moves of a returned unit have no picking: their reference (and so the labels of the journal entries
        # stock_account builds from it) is the RMA number.
        rma_moves = self.filtered(lambda move: move.rma_line_id.rma_id.name)
        for move in rma_moves:
            move.reference = move.rma_line_id.rma_id.name
        super(StockMove, self - rma_moves)._compute_reference()
