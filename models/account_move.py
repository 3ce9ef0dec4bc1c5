from odoo import models


class AccountMove(models.Model):
    _inherit = "account.move"

    def _stock_account_prepare_realtime_out_lines_vals(self):
        # Accounting contract: a returned unit's COGS is reversed once, by its RMA receipt entry (Dr Stock / Cr COGS
        # when the unit arrives). A credit note made from the sale order for that unit (its delivered quantity went
        # down with the receipt) therefore posts no COGS line for it; the rest of its quantity keeps Odoo's lines.
        vals_list = super()._stock_account_prepare_realtime_out_lines_vals()
        refund_lines = self.filtered(lambda move: move.move_type == "out_refund").invoice_line_ids.filtered(
            "sale_line_ids"
        )
        if not refund_lines or not vals_list:
            return vals_list
        covered = self._rma_received_quantities(refund_lines)
        kept = []
        for vals in vals_list:
            line = refund_lines.browse(vals.get("cogs_origin_id"))
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

    def _rma_received_quantities(self, refund_lines):
        """{refund line: quantity of it whose COGS an RMA receipt entry already reversed}.

        The RMA receipts of a sale line's units come first: credit notes posted before this one used them up.
        """
        sale_lines = refund_lines.sale_line_ids
        received = {}
        receipts = (
            self.env["stock.move"]
            .sudo()
            .search(
                [
                    ("sale_line_id", "in", sale_lines.ids),
                    ("rma_line_id", "!=", False),
                    ("rma_line_id.is_substitution", "=", False),
                    ("state", "=", "done"),
                    ("to_refund", "=", True),
                    ("location_id.usage", "=", "customer"),
                ]
            )
        )
        for move in receipts:
            if move.product_id.valuation == "real_time":
                received[move.sale_line_id] = received.get(move.sale_line_id, 0.0) + move.product_qty
        if not received:
            return {}
        earlier_refunds = (
            self.env["account.move.line"]
            .sudo()
            .search(
                [
                    ("sale_line_ids", "in", list({line.id for line in received})),
                    ("move_id.move_type", "=", "out_refund"),
                    ("move_id.state", "=", "posted"),
                    ("move_id", "not in", self.ids),
                    ("display_type", "=", "product"),
                ]
            )
        )
        for refund_line in earlier_refunds:
            for sale_line in refund_line.sale_line_ids & sale_lines:
                if sale_line in received:
                    received[sale_line] = max(0.0, received[sale_line] - refund_line.quantity)
        covered = {}
        for line in refund_lines:
            for sale_line in line.sale_line_ids:
                available = received.get(sale_line, 0.0)
                if not available:
                    continue
                take = min(available, line.quantity - covered.get(line, 0.0))
                covered[line] = covered.get(line, 0.0) + take
                received[sale_line] = available - take
        return covered
