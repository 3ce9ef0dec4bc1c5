from odoo import api, fields, models

from odoo.addons.stock_account.models.stock_move import VALUATION_DICT


class StockMove(models.Model):
    _inherit = "stock.move"

    rma_line_id = fields.Many2one("rma.line", string="RMA Unit", index="btree_not_null", copy=False, readonly=True)

    @api.depends("rma_line_id.rma_id.name")
    def _compute_reference(self):  # pylint: disable=missing-return
        # Moves of a returned unit have no picking: their reference (and so the labels of the journal entries
        # stock_account builds from it) is the RMA number.
        rma_moves = self.filtered(lambda move: move.rma_line_id.rma_id.name)
        for move in rma_moves:
            move.reference = move.rma_line_id.rma_id.name
        super(StockMove, self - rma_moves)._compute_reference()

    def _get_valued_qty(self, lot=None):
        # A receipt batch values each returned unit from its original delivery move (stock_account's
        # _get_value_from_returns), which re-reads all the delivery's move lines for every unit: for a
        # delivery of 1,000 serials that is quadratic. The batch computes each delivery's valued quantity
        # once and passes it here (rma_valued_qty: ((move id, quantity), ...)).
        if lot is None and self.env.context.get("rma_valued_qty"):
            known = dict(self.env.context["rma_valued_qty"])
            if self.id in known:
                return known[self.id]
        return super()._get_valued_qty(lot=lot)

    def _skip_push(self):
        # A returned unit goes exactly where the RMA flow sends it (quarantine, a handoff location): the
        # warehouse's push rules must not carry it on into sellable stock.
        return bool(self.rma_line_id) or super()._skip_push()

    def _should_be_assigned(self):
        # A returned unit's moves belong to its RMA (their reference is the RMA number), not to a picking:
        # each scan is done on the spot, and a transfer document per scan would only add noise.
        return not self.rma_line_id and super()._should_be_assigned()

    def _get_manual_value(self, quantity, at_date=None):
        # Receipt moves a batch has just created cannot carry a manual value yet: skip the lookup, one query
        # per move otherwise (rma_new_move_ids: the ids of those moves). Other moves (a unit leaving WIP at its
        # net realizable value) do carry one, created before they are done.
        if self.id in self.env.context.get("rma_new_move_ids", ()):
            return dict(VALUATION_DICT)
        return super()._get_manual_value(quantity, at_date=at_date)
