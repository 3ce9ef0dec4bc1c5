from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from .rma_order_remedy import UNDECIDED_STATES


class RmaCogsReversal(models.Model):
    """Which journal item reversed a returned unit's cost of goods sold, and for what quantity (accounting contract,
    invariant 5).

    Written by the server when the document posts, never inferred later:

    - ``receipt``: the Cr COGS line of the unit's RMA receipt entry (or of the correction that the addon posts when
      another source starts or stops counting), in the RMA Dispositions journal;
    - ``credit``: a Cr COGS line Odoo posted on a credit note (from the sale order, by hand, or copied from the
      invoice by a *modify* reversal), allocated to the unit when it posted or when the unit's RMA was authorized;
    - ``covered``: a credit note line that left the unit's COGS to its receipt entry (Odoo posted no COGS line for
      that quantity); it reverses nothing itself (amount 0) but uses up the unit's quantity for other credit notes.

    A row counts while its journal item is posted and its entry is not reversed by a posted entry; when it stops
    counting (reset to draft, cancel, reversal, deletion), the addon posts the difference at once (_settle).

    The model also holds the COGS reversal logic of the returned units: what each should be, what counts, the
    allocation of credit note COGS to units, and the entry that settles the difference (labelled RECEIPT). At every
    moment the counting records of a received unit add up to the value Odoo gave its receipt.
    """

    _name = "rma.cogs.reversal"
    _description = "COGS Reversal of a Returned Unit"
    _order = "id"
    _check_company_auto = True

    line_id = fields.Many2one("rma.line", string="RMA Unit", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="line_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    rma_id = fields.Many2one(related="line_id.rma_id", string="RMA")
    kind = fields.Selection(
        [
            ("receipt", "RMA Receipt Entry"),
            ("credit", "Credit Note COGS"),
            ("covered", "Left to the Receipt Entry"),
        ],
        required=True,
    )
    move_line_id = fields.Many2one(
        "account.move.line",
        string="Journal Item",
        index="btree_not_null",
        ondelete="set null",
        help="The Cr COGS journal item (for a covered credit note: its product line). Emptied when Odoo deletes the"
        " item (a credit note reset to draft or cancelled deletes its COGS lines).",
    )
    move_id = fields.Many2one("account.move", string="Document", required=True, index=True, ondelete="cascade")
    quantity = fields.Float(digits="Product Unit", help="In the product's unit; negative for a correction.")
    amount = fields.Monetary(
        currency_field="currency_id", help="COGS reversed for that quantity; negative for a correction."
    )
    is_counting = fields.Boolean(
        string="Counts",
        compute="_compute_is_counting",
        store=True,
        index=True,
        help="The journal item is posted and its entry not reversed by a posted entry.",
    )

    @api.depends("move_line_id", "move_id.state", "move_id.reversal_move_ids.state")
    def _compute_is_counting(self):
        for row in self:
            row.is_counting = bool(
                row.move_line_id
                and row.move_id.state == "posted"
                and not any(reversal.state == "posted" for reversal in row.move_id.reversal_move_ids)
            )

    # Append-only: rows are created by the server (sudo, in the step that posts). Only Odoo's own bookkeeping changes
    # them afterwards: the stored is_counting recomputed, the journal item emptied by the database when Odoo deletes it,
    # the row deleted with a draft document deleted.
    def write(self, vals):
        if vals:
            raise UserError(self.env._("The COGS reversal records of returned units cannot be changed."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        raise UserError(self.env._("The COGS reversal records of returned units cannot be deleted."))

    # ------------------------------------------------------------------
    # What a unit's COGS reversal should be, and what counts
    # ------------------------------------------------------------------
    @api.model
    def _units_reversed_at_receipt(self, units):
        """The ``units`` whose receipt entry reverses (or will reverse) their COGS: authorized or further, not a
        substitution, in real-time valuation."""
        return units.filtered(
            lambda unit: (
                unit.state not in UNDECIDED_STATES
                and not unit.is_substitution
                and unit.product_id.valuation == "real_time"
            )
        )

    @api.model
    def _expected(self, unit):
        """(quantity, value) whose COGS must be reversed for ``unit``: what came back, at the value Odoo gave its
        receipt (none for a suspected substitution held at zero, nor in periodic valuation)."""
        if unit.is_substitution or unit.product_id.valuation != "real_time":
            return 0.0, 0.0
        receipts = unit._receipt_moves()
        return sum(receipts.mapped("product_qty")), sum(receipts.mapped("value"))

    @api.model
    def _due(self, unit):
        """(quantity, amount) still to reverse for ``unit``: positive when short, negative when reversed twice.

        Credit note COGS allocated to the unit counts for its received quantity only (it was posted for goods still to
        come back: consumed visit by visit); the receipt rows (the receipt entry and its corrections) count whole."""
        expected_quantity, expected_amount = self._expected(unit)
        credit_quantity = credit_amount = receipt_quantity = receipt_amount = 0.0
        for row in unit.cogs_reversal_ids:
            if not row.is_counting:
                continue
            if row.kind == "credit":
                credit_quantity += row.quantity
                credit_amount += row.amount
            elif row.kind == "receipt":
                receipt_quantity += row.quantity
                receipt_amount += row.amount
        consumed_quantity = min(max(credit_quantity, 0.0), expected_quantity)
        consumed_amount = credit_amount * consumed_quantity / credit_quantity if credit_quantity > 0 else 0.0
        return (
            expected_quantity - consumed_quantity - receipt_quantity,
            expected_amount - consumed_amount - receipt_amount,
        )

    @api.model
    def _capacity(self, unit, exclude_moves=()):
        """``unit``'s quantity that no counting credit note (but ``exclude_moves``) has reversed the COGS of
        (``credit``) or left to its receipt entry (``covered``) yet: what a credit note that does not name the unit
        may still count on it for."""
        rows = unit.cogs_reversal_ids.filtered(
            lambda row: row.is_counting and row.kind in ("credit", "covered") and row.move_id not in exclude_moves
        )
        return max(unit.quantity - sum(rows.mapped("quantity")), 0.0)

    @api.model
    def _mismatched_unit_ids(self):
        """The ids of the received real-time units whose COGS is not reversed exactly once (rma.line's
        is_cogs_reversal_mismatch, searched)."""
        self.flush_model()
        self.env["stock.move"].flush_model(["rma_line_id", "value", "state", "location_id"])
        self.env["rma.line"].flush_model(["is_substitution"])
        # The same figures as _due, for every received unit at once.
        self.env.cr.execute(
            SQL(
                """
                WITH received AS (
                    SELECT m.rma_line_id AS line_id, l.product_id, l.company_id, SUM(m.product_qty) AS qty,
                           SUM(m.value) AS value
                      FROM stock_move m
                      JOIN stock_location src ON src.id = m.location_id
                      JOIN rma_line l ON l.id = m.rma_line_id
                     WHERE m.state = 'done' AND src.usage = 'customer' AND NOT COALESCE(l.is_substitution, FALSE)
                     GROUP BY m.rma_line_id, l.product_id, l.company_id
                ), rows AS (
                    SELECT line_id,
                           SUM(quantity) FILTER (WHERE kind = 'credit') AS credit_qty,
                           SUM(amount) FILTER (WHERE kind = 'credit') AS credit_amount,
                           SUM(amount) FILTER (WHERE kind = 'receipt') AS receipt_amount
                      FROM rma_cogs_reversal
                     WHERE is_counting
                     GROUP BY line_id
                )
                SELECT r.line_id, r.product_id, r.company_id
                  FROM received r
                  LEFT JOIN rows ON rows.line_id = r.line_id
                 WHERE r.qty > 0
                   AND ABS(r.value
                           - CASE WHEN COALESCE(rows.credit_qty, 0) > 0
                                  THEN rows.credit_amount * LEAST(rows.credit_qty, r.qty) / rows.credit_qty
                                  ELSE 0 END
                           - COALESCE(rows.receipt_amount, 0)) >= 0.005
                """
            )
        )
        rows = self.env.cr.fetchall()
        # Real-time valuation is a company-dependent property of the product's category: checked once per product and
        # company (periodic units have no records and all come back from the query).
        real_time = {
            (product_id, company_id)
            for product_id, company_id in {(row[1], row[2]) for row in rows}
            if self.env["product.product"].browse(product_id).with_company(company_id).valuation == "real_time"
        }
        mismatched = [row[0] for row in rows if (row[1], row[2]) in real_time]
        return mismatched

    # ------------------------------------------------------------------
    # Posting the difference
    # ------------------------------------------------------------------
    @api.model
    def _settle(self, units):
        """Post, for each of ``units``, what its counting records lack (Dr stock valuation / Cr COGS) or exceed (the
        opposite) of its received value, in the company's RMA Dispositions journal, labelled RECEIPT, and record it.
        One entry per company; returns the entries."""
        self.flush_model()
        entries = self.env["account.move"]
        # As superuser: the step that settles a unit (a scan, an accountant resetting a credit note) posts in the RMA
        # journal and writes the append-only records, which its user may not.
        units = units.sudo().filtered(lambda line: line.product_id.valuation == "real_time")
        units._lock_units()  # two settlements of one unit at once (a receipt, a credit note) must not both post
        Reversal = self.with_env(units.env)
        AccountMoveLine = units.env["account.move.line"]
        for company, lines in units.grouped("company_id").items():
            currency = company.currency_id
            line_vals, dues, analytic_cache = [], {}, {}
            for line in lines:
                quantity, amount = Reversal._due(line)
                if currency.is_zero(amount):
                    continue
                accounts = line.product_id.product_tmpl_id.with_company(company)._get_product_accounts()
                stock_account, cogs_account = accounts["stock_valuation"], accounts["expense"]
                if not stock_account or not cogs_account:
                    raise UserError(
                        self.env._(
                            "Set the stock valuation and expense (COGS) accounts of %(product)s's category to receive"
                            " returns in real-time valuation.",
                            product=line.product_id.display_name,
                        )
                    )
                debit, credit = (stock_account, cogs_account) if amount > 0 else (cogs_account, stock_account)
                vals = AccountMoveLine._rma_entry_line_vals(
                    line,
                    debit,
                    credit,
                    abs(amount),
                    AccountMoveLine._rma_label(line, "RECEIPT"),
                    quantity=abs(quantity) or line.quantity,
                    analytic_cache=analytic_cache,
                )
                line_vals += vals
                dues[line] = (quantity, amount, cogs_account)
            if not line_vals:
                continue
            entry = units.env["account.move"]._rma_create_entry(
                company, line_vals, ", ".join(dict.fromkeys(unit.rma_id.name for unit in dues))
            )
            entries |= entry
            cogs_items = {
                (item.rma_line_id, item.account_id): item for item in entry.line_ids if item.rma_line_id in dues
            }
            Reversal.create(
                [
                    {
                        "line_id": line.id,
                        "kind": "receipt",
                        "move_id": entry.id,
                        "move_line_id": cogs_items[line, cogs_account].id,
                        "quantity": quantity,
                        "amount": amount,
                    }
                    for line, (quantity, amount, cogs_account) in dues.items()
                ]
            )
        return entries

    # ------------------------------------------------------------------
    # Allocating credit note COGS to units
    # ------------------------------------------------------------------
    @api.model
    def _allocate_credit_cogs(self, cogs_lines, units):
        """Allocate the Cr COGS journal items ``cogs_lines`` (posted, on credit notes) to ``units`` of their sale line
        and product, within what each item has not allocated yet and what each unit can still take: units named on
        the credited line first, then received units, then the others; never to a unit the same credit note left to
        its receipt entry (its COGS lines are for other goods). Returns the units allocated to.

        Called as superuser (account.move._post, _allocate_earlier_credit_notes): the records are the server's."""
        if not cogs_lines or not units:
            return units.browse()
        self.flush_model()
        allocated = defaultdict(float)
        for row in self.search([("move_line_id", "in", cogs_lines.ids), ("is_counting", "=", True)]):
            allocated[row.move_line_id] += row.quantity
        capacity = {unit: self._capacity(unit) for unit in units}
        vals_list = []
        for item in cogs_lines.sorted("id"):
            product = item.product_id
            total = abs(item.quantity)
            if item.product_uom_id:
                total = item.product_uom_id._compute_quantity(total, product.uom_id)
            remaining = total - allocated[item]
            if product.uom_id.compare(remaining, 0.0) <= 0 or not total:
                continue
            named = item.cogs_origin_id.rma_line_id
            sale_lines = item._rma_cogs_sale_lines()
            candidates = [
                unit
                for unit in units
                if unit.product_id == product
                and (unit == named or unit.sale_line_id in sale_lines)
                and not unit.cogs_reversal_ids.filtered(
                    lambda row, item=item: row.kind == "covered" and row.move_id == item.move_id and row.is_counting
                )
            ]
            candidates.sort(key=lambda unit: (unit != named, not unit.quantity_received, unit.id))
            for unit in candidates:
                take = min(remaining, capacity[unit])
                if product.uom_id.compare(take, 0.0) <= 0:
                    continue
                vals_list.append(
                    {
                        "line_id": unit.id,
                        "kind": "credit",
                        "move_id": item.move_id.id,
                        "move_line_id": item.id,
                        "quantity": take,
                        "amount": -item.balance * take / total,
                    }
                )
                capacity[unit] -= take
                remaining -= take
        rows = self.create(vals_list)
        return rows.line_id

    @api.model
    def _allocate_earlier_credit_notes(self, units):
        """At authorization: the COGS that credit notes posted earlier for ``units``' sale lines and did not allocate
        (the units were not on an open RMA then) is allocated to them now, explicitly."""
        # As superuser: the manager authorizing an RMA need not read invoices, and the records are the server's.
        units = self._units_reversed_at_receipt(units.sudo()).filtered("sale_line_id")
        if not units:
            return units
        cogs_lines = units.env["account.move.line"]._rma_posted_cogs_credits(units.sale_line_id)
        return self.with_env(units.env)._allocate_credit_cogs(cogs_lines, units)
