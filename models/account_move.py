from collections import defaultdict

from odoo import Command, api, fields, models

from .rma_server_context import server_context, server_value


class AccountMove(models.Model):
    """Journal entries of returned units, and credit notes meeting them (accounting contract, credit-note row and
    invariant 5).

    - The RMA's entries are created and posted by one helper (_rma_create_entry) in the company's RMA Dispositions
      journal, from per-unit labelled items (account.move.line._rma_entry_line_vals); the moves that they value build
      them (stock.move), and the allowance release (_rma_post_allowance_release) here.
    - A credit note line for units whose RMA receipt entry reverses their COGS (authorized or further) gets no COGS
      line for that quantity, capped at what each unit can take; the decision is recorded on each unit as a
      ``covered`` row when the credit note posts.
    - The COGS lines Odoo does post on a credit note (for goods without an open RMA, or copied from the invoice by a
      *modify* reversal, which prepares nothing) are allocated at posting to the units of their sale line that are on
      an open RMA (``credit`` rows); what is left is allocated to units authorized later. A unit whose COGS was already
      reversed is countered in the same transaction by its RMA receipt correction.
    - A credit note reset to draft, cancelled, reversed or deleted stops counting: its units are settled at once.
    """

    _inherit = "account.move"

    def _post(self, soft=True):
        # The COGS of returned units is the server's to settle: whoever posts (an accountant) may not read the Returns
        # app's units, nor write the lines' covered quantity and the append-only COGS reversal records.
        server = self.sudo()
        refunds = server.filtered(lambda move: move.move_type == "out_refund")
        if not refunds or server_value(self.env, "rma_valued_qty") is not None:
            posted = super()._post(soft)
            server._rma_settle_after_post({})
            return posted
        # Odoo prepares COGS lines only when the posting is not a modify/cancel reversal (stock_account's _post).
        coverage = {} if self.env.context.get("move_reverse_cancel") else refunds._rma_cogs_coverage()
        # Posting a credit note re-values the returns of its sale lines (stock_account's _post). An RMA's receipt
        # moves are valued from their delivery, which Odoo re-reads whole for each unit: quadratic for a delivery of
        # many serials. Each delivery's valued quantity is computed once here (server-only, see
        # stock.move._get_valued_qty): the values are Odoo's own.
        receipts = refunds.line_ids._get_stock_moves().filtered(
            lambda move: move.rma_line_id and move.origin_returned_move_id
        )
        valued_qty = {origin.id: origin._get_valued_qty() for origin in receipts.origin_returned_move_id}
        # The decision is stored on each credit note line before Odoo prepares its COGS lines (see
        # _stock_account_prepare_realtime_out_lines_vals): the quantity whose COGS the units' RMA entries reverse.
        covered_qty = {line: sum(units.values()) for line, units in coverage.items()}
        for quantity, lines in refunds.invoice_line_ids.grouped(lambda line: covered_qty.get(line, 0.0)).items():
            lines = lines.filtered(lambda line, quantity=quantity: line.rma_cogs_covered_qty != quantity)
            if lines:
                lines.write({"rma_cogs_covered_qty": quantity})
        posted = super(AccountMove, self.with_context(**server_context(rma_valued_qty=valued_qty)))._post(soft)
        # Odoo re-values the returns of the credit note's sale lines: their units are settled on the new value.
        server._rma_settle_after_post(coverage, receipts.rma_line_id)
        refunds.invoice_line_ids.rma_line_id.rma_id._rma_notify("remedy_done", refunds.invoice_line_ids.rma_line_id)
        return posted

    def button_draft(self):
        units = self._rma_reversal_units()
        result = super().button_draft()
        self.env["rma.cogs.reversal"]._settle(units)
        return result

    def button_cancel(self):
        units = self._rma_reversal_units()
        result = super().button_cancel()
        self.env["rma.cogs.reversal"]._settle(units)
        return result

    def unlink(self):
        units = self._rma_reversal_units()
        result = super().unlink()
        self.env["rma.cogs.reversal"]._settle(units.exists())
        return result

    def _stock_account_prepare_realtime_out_lines_vals(self):
        # Lines covered in full are not eligible for COGS at all (Odoo does not even price them, see
        # account.move.line._eligible_for_stock_account); the others of a line covered in part are scaled down to the
        # rest. The covered quantity was recorded on each line by _post.
        covered = {line: line.rma_cogs_covered_qty for line in self.invoice_line_ids if line.rma_cogs_covered_qty}
        vals_list = super()._stock_account_prepare_realtime_out_lines_vals()
        if not covered:
            return vals_list
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

    # ------------------------------------------------------------------
    # Returned units whose COGS these documents reverse
    # ------------------------------------------------------------------
    def _rma_cogs_coverage(self):
        """{credit note line: {unit: quantity}}: the quantity of each line whose COGS the unit's RMA receipt entry
        reverses (done or to come) instead of the credit note. A line made from an RMA covers its own unit; the others
        cover the units of their sale line that are authorized or further, each unit at most its quantity that no
        other posted credit note covered or credited (a credit note from the sale order for goods returned later is
        for those goods). A line made from an RMA always covers its unit, up to its quantity: a unit credited twice
        has its COGS reversed once all the same."""
        lines = self.invoice_line_ids.filtered(
            lambda line: line.display_type == "product" and line.product_id.valuation == "real_time"
        )
        if not lines:
            return {}
        sale_lines_of = {line: line._rma_sale_lines() for line in lines}
        sale_lines = self.env["sale.order.line"].union(*sale_lines_of.values())
        units = self._rma_units_reversed_at_receipt(sale_lines, lines.rma_line_id)
        capacity = {unit: self.env["rma.cogs.reversal"]._capacity(unit, exclude_moves=self) for unit in units}
        units_of = defaultdict(list)  # (product, sale line): units, received ones first
        for unit in units.sorted(lambda unit: (not unit.quantity_received, unit.id)):
            units_of[unit.product_id, unit.sale_line_id].append(unit)
        coverage = defaultdict(dict)
        covered_here = defaultdict(float)
        # Lines made from an RMA name their unit: they come first.
        for line in lines.sorted(lambda line: (not line.rma_line_id, line.id)):
            quantity = line.product_uom_id._compute_quantity(line.quantity, line.product_id.uom_id)
            named = line.rma_line_id
            if named:
                candidates = [named] if named in capacity else []
            else:
                candidates = [
                    unit for sale_line in sale_lines_of[line] for unit in units_of[line.product_id, sale_line]
                ]
            for unit in candidates:
                room = (unit.quantity if named else capacity[unit]) - covered_here[unit]
                take = min(quantity, room)
                if line.product_id.uom_id.compare(take, 0.0) <= 0:
                    continue
                coverage[line][unit] = take
                covered_here[unit] += take
                quantity -= take
        # Back in the line's unit of measure for Odoo's COGS preparation.
        return {
            line: {
                unit: line.product_id.uom_id._compute_quantity(qty, line.product_uom_id) for unit, qty in units.items()
            }
            for line, units in coverage.items()
        }

    def _rma_settle_after_post(self, coverage, revalued_units=None):
        """After posting: record the coverage, allocate the COGS lines Odoo posted on credit notes to the units of
        their sale line on an open RMA, and settle every unit whose records changed (this credit note's, and those of
        the entries it reverses)."""
        posted = self.filtered(lambda move: move.state == "posted")
        Reversal = self.env["rma.cogs.reversal"]
        vals_list = [
            {
                "line_id": unit.id,
                "kind": "covered",
                "move_id": line.move_id.id,
                "move_line_id": line.id,
                "quantity": line.product_uom_id._compute_quantity(quantity, line.product_id.uom_id),
                "amount": 0.0,
            }
            for line, units in coverage.items()
            if line.move_id in posted
            for unit, quantity in units.items()
        ]
        if vals_list:
            Reversal.create(vals_list)
        refunds = posted.filtered(lambda move: move.move_type == "out_refund")
        cogs_credits = refunds.line_ids.filtered(
            lambda item: item.display_type == "cogs" and item.company_currency_id.compare_amounts(item.balance, 0.0) < 0
        )
        affected = revalued_units or self.env["rma.line"]
        if cogs_credits:
            sale_lines = self.env["sale.order.line"].union(*(item._rma_cogs_sale_lines() for item in cogs_credits))
            units = self._rma_units_reversed_at_receipt(sale_lines, cogs_credits.cogs_origin_id.rma_line_id)
            affected |= Reversal._allocate_credit_cogs(cogs_credits, units)
        affected |= posted.reversed_entry_id._rma_reversal_units()
        Reversal._settle(affected)

    def _rma_units_reversed_at_receipt(self, sale_lines, named_units):
        """The RMA units of ``sale_lines`` and ``named_units`` whose receipt entry reverses their COGS (authorized or
        further). Called as superuser (_post): whoever posts a credit note need not read the Returns app's units."""
        units = self.env["rma.line"].search([("delivery_move_id.sale_line_id", "in", sale_lines.ids)])
        return self.env["rma.cogs.reversal"]._units_reversed_at_receipt(units | named_units)

    def _rma_reversal_units(self):
        """The units that have COGS reversal records on these entries."""
        if not self:
            return self.env["rma.line"]
        # As superuser: whoever resets, cancels or deletes an entry (an accountant) need not read Returns' units.
        return self.env["rma.cogs.reversal"].sudo().search([("move_id", "in", self.ids)]).line_id

    # ------------------------------------------------------------------
    # The RMA's journal entries
    # ------------------------------------------------------------------
    @api.model
    def _rma_create_entry(self, company, line_vals, ref):
        """One posted entry in the company's RMA Dispositions journal, or nothing without lines. Returned as
        superuser: its callers read the items they record (rma.cogs.reversal._settle)."""
        if not line_vals:
            return self.env["account.move"]
        # As superuser: the step that values a unit (a scan, a disposition, a delivery) posts in the RMA journal, which
        # its user (warehouse staff) may not write. Analytic lines are made at posting: skip their synchronisation on
        # each line of the draft.
        entry = (
            self.sudo()
            .with_context(skip_analytic_sync=True)
            .create(
                {
                    "move_type": "entry",
                    "journal_id": company._get_rma_journal().id,
                    "company_id": company.id,
                    "date": fields.Date.context_today(self),
                    "ref": ref,
                    "line_ids": [Command.create(vals) for vals in line_vals],
                }
            )
        )
        entry.with_context(skip_analytic_sync=False)._post()
        return entry

    @api.model
    def _rma_post_allowance_release(self, units):
        """Standard-cost ``units`` leave graded stock: their NRV allowance is released, Dr NRV allowance / Cr COGS
        (contract, "work closed, standard cost"). Called as superuser (rma.line._leave_graded_stock): whoever moves
        the unit (a salesperson's delivery, warehouse staff) need not read journal items."""
        entries = self.env["account.move"]
        AccountMoveLine = self.env["account.move.line"]
        for company, lines in units.grouped("company_id").items():
            line_vals = []
            for line in lines:
                accounts = line.disposition_id._get_accounts(line.product_id, company)
                allowance = accounts["nrv_allowance"]
                held = -sum(
                    line.account_move_line_ids.filtered(
                        lambda aml, allowance=allowance: aml.account_id == allowance
                    ).mapped("balance")
                )
                if company.currency_id.compare_amounts(held, 0.0) <= 0:
                    continue
                cogs = line.product_id.product_tmpl_id.with_company(company)._get_product_accounts()["expense"]
                label = AccountMoveLine._rma_label(line, f"{AccountMoveLine._rma_disposition_code(line)} RELEASE")
                line_vals += AccountMoveLine._rma_entry_line_vals(line, allowance, cogs, held, label)
            entries |= self._rma_create_entry(company, line_vals, ", ".join(lines.rma_id.mapped("name")))
        return entries
