"""Delegates of the old names on rma.line, for callers in files other helpers own (receipt, disposition, batch,
harvest, rma_order.py, stock_move.py's _action_done and valuation lines, a migration): the coordinator ports each
call to the method named here (see the branch's report), then deletes this file. The work is done by the documents:
stock.move (the entries of the moves it values), account.move / account.move.line (the RMA's entries and their
items), rma.cogs.reversal (the COGS reversal)."""

from odoo import models


class RmaLine(models.Model):
    _inherit = "rma.line"

    def _entry_label(self, code):
        return self.env["account.move.line"]._rma_label(self, code)

    def _disposition_label(self):
        return self.env["account.move.line"]._rma_disposition_code(self)

    def _prepare_entry_line_vals(self, debit_account, credit_account, amount, label, move=None, analytic_cache=None):
        quantity = move.quantity if move else None
        return self.env["account.move.line"]._rma_entry_line_vals(
            self, debit_account, credit_account, amount, label, quantity=quantity, analytic_cache=analytic_cache
        )

    def _create_entry(self, company, line_vals, ref):
        return self.env["account.move"]._rma_create_entry(company, line_vals, ref)

    def _post_receipt_entries(self, moves):
        return moves._rma_post_receipt_entries()

    def _post_work_close_entries(self, moves):
        return moves.with_env(self.env)._rma_post_work_close_entries()

    def _post_work_cancel_entries(self, moves):
        return moves.with_env(self.env)._rma_post_work_cancel_entries()

    def _post_allowance_release(self):
        return self.env["account.move"]._rma_post_allowance_release(self)

    def _post_remedy_delivery_entries(self, moves):
        return moves._rma_post_remedy_delivery_entries()

    def _remedy_started(self):
        return self.is_remedy_started

    def _allocate_earlier_credit_notes(self):
        return self.env["rma.cogs.reversal"]._allocate_earlier_credit_notes(self)
