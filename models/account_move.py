from collections import defaultdict

from odoo import models

from .rma_server_context import server_context, server_value


class AccountMove(models.Model):
    _inherit = "account.move"

    def _post(self, soft=True):
        # Posting a credit note re-values the returns of its sale lines (stock_account's _post). An RMA's receipt
        # moves are valued from their delivery, which Odoo re-reads whole for each unit: quadratic for a delivery of
        # many serials. Each delivery's valued quantity is computed once here (server-only, see
        # stock.move._get_valued_qty): the values are Odoo's own.
        refunds = self.filtered(lambda move: move.move_type == "out_refund")
        if not refunds or server_value(self.env, "rma_valued_qty"):
            return super()._post(soft)
        receipts = refunds.line_ids._get_stock_moves().filtered(
            lambda move: move.rma_line_id and move.origin_returned_move_id
        )
        if not receipts:
            return super()._post(soft)
        valued_qty = {origin.id: origin._get_valued_qty() for origin in receipts.origin_returned_move_id}
        return super(AccountMove, self.with_context(**server_context(rma_valued_qty=valued_qty)))._post(soft)

    def _stock_account_prepare_realtime_out_lines_vals(self):
        # Accounting contract, invariant 2: a returned unit's COGS is reversed once. A unit with an RMA (authorized,
        # received or further) is reversed by its RMA receipt entry (Dr Stock / Cr COGS when it arrives). A credit
        # note for it, made from the RMA, from the sale order or by reversing the invoice, before or after the unit
        # arrives, therefore posts no COGS line for it; the rest of its quantity keeps Odoo's lines. (The other
        # order: a credit note posted before the unit had an RMA reverses the COGS itself, and the unit's receipt
        # then posts nothing, see rma.line._refund_reversed_receipts.)
        refunds = self.filtered(lambda move: move.move_type == "out_refund")
        covered = refunds._rma_covered_quantities() if refunds else {}
        if not covered:
            return super()._stock_account_prepare_realtime_out_lines_vals()
        # Lines covered in full are not eligible for COGS at all (Odoo does not even price them); the others of a
        # line covered in part are scaled down to the rest.
        fully = frozenset(line.id for line, quantity in covered.items() if quantity >= line.quantity)
        vals_list = super(
            AccountMove, self.with_context(**server_context(rma_cogs_covered_line_ids=fully))
        )._stock_account_prepare_realtime_out_lines_vals()
        kept = []
        for vals in vals_list:
            line = self.env["account.move.line"].browse(vals.get("cogs_origin_id"))
            share = covered.get(line, 0.0)
            if not share:
                kept.append(vals)
                continue
            remaining = 1 - share / line.quantity
            if line.product_uom_id.is_zero(line.quantity * remaining):
                continue
            vals.update(quantity=vals["quantity"] * remaining, amount_currency=vals["amount_currency"] * remaining)
            kept.append(vals)
        return kept

    def _rma_covered_quantities(self):
        """{credit note line: quantity of it whose COGS an RMA unit's receipt entry reverses, done or to come}."""
        lines = self.invoice_line_ids.filtered(
            lambda line: line.display_type == "product" and line.product_id.valuation == "real_time"
        )
        sale_lines_of = {line: line._rma_sale_lines() for line in lines}
        capacity = self._rma_reversal_capacity(self.env["sale.order.line"].union(*sale_lines_of.values()))
        covered = {}
        # Lines made from an RMA name their unit: they come first.
        for line in lines.sorted(lambda line: not line.rma_line_id):
            unit = line.rma_line_id
            if unit:
                if unit.product_id == line.product_id and unit._reverses_cogs_at_receipt():
                    covered[line] = line.quantity
                    for sale_line in sale_lines_of[line]:
                        capacity[sale_line] = max(0.0, capacity.get(sale_line, 0.0) - line.quantity)
                continue
            for sale_line in sale_lines_of[line]:
                available = capacity.get(sale_line, 0.0)
                take = min(available, line.quantity - covered.get(line, 0.0))
                if take > 0:
                    covered[line] = covered.get(line, 0.0) + take
                    capacity[sale_line] = available - take
        return covered

    def _rma_reversal_capacity(self, sale_lines):
        """{sale line: quantity of its RMA units whose receipt entry reverses their COGS and that no credit note
        posted before these ones has counted on yet}."""
        if not sale_lines:
            return {}
        capacity = defaultdict(float)
        units = (
            self.env["rma.line"]
            .sudo()
            .search([("delivery_move_id.sale_line_id", "in", sale_lines.ids)])
            .filtered(lambda unit: unit._reverses_cogs_at_receipt())
        )
        for unit in units:
            capacity[unit.sale_line_id] += unit.quantity
        earlier = self.env["account.move.line"]._rma_posted_refund_lines(sale_lines, exclude=self)
        cogs_quantities = earlier._rma_cogs_quantities()
        for line in earlier:
            relied = line.quantity - cogs_quantities.get(line, 0.0)
            for sale_line in line._rma_sale_lines() & sale_lines:
                take = min(relied, capacity[sale_line])
                capacity[sale_line] -= take
                relied -= take
        return capacity
