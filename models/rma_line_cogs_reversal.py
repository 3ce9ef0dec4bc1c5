from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from .rma_line_remedy import UNDECIDED_STATES


class RmaLine(models.Model):
    """The COGS reversal of a returned unit, exactly once (accounting contract, invariants 2 and 5).

    Each document that reverses the unit's cost of goods sold is recorded on the unit (rma.cogs.reversal) when it
    posts. At every moment the counting records of a received unit add up to the value Odoo gave its receipt: the
    receipt entry posts what no credit note covers, and any source that starts or stops counting (a modify reversal,
    a credit note reset, cancelled or reversed) is settled at once by a correction labelled RECEIPT.
    """

    _inherit = "rma.line"

    cogs_reversal_ids = fields.One2many("rma.cogs.reversal", "line_id", string="COGS Reversals", readonly=True)
    cogs_reversed_amount = fields.Monetary(
        string="COGS Reversed",
        currency_field="currency_id",
        compute="_compute_cogs_reversal",
        help="The COGS reversed for the unit's received quantity by the documents that count.",
    )
    is_cogs_reversed_by_refund = fields.Boolean(
        string="COGS Reversed by a Credit Note",
        compute="_compute_cogs_reversal",
        help="A credit note posted before the unit was authorized reversed its cost of goods sold: its receipt"
        " posts no entry for that quantity (one reversal per unit).",
    )
    is_cogs_reversal_mismatch = fields.Boolean(
        string="COGS Not Reversed Exactly Once",
        compute="_compute_cogs_reversal",
        search="_search_is_cogs_reversal_mismatch",
        help="Received in real-time valuation, the COGS reversed for the unit differs from the value of its receipt."
        " This list must stay empty.",
    )

    @api.depends("cogs_reversal_ids.is_counting", "receipt_move_ids.value", "receipt_move_ids.state")
    def _compute_cogs_reversal(self):
        for line in self:
            counting = line.cogs_reversal_ids.filtered("is_counting")
            line.is_cogs_reversed_by_refund = any(row.kind == "credit" and row.quantity > 0 for row in counting)
            _due_quantity, due_amount = line._cogs_due()
            line.cogs_reversed_amount = line._cogs_expected()[1] - due_amount
            line.is_cogs_reversal_mismatch = not line.currency_id.is_zero(due_amount)

    def _search_is_cogs_reversal_mismatch(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(self.env._("Search returned units whose COGS is not reversed exactly once with = or !=."))
        self.env["rma.cogs.reversal"].flush_model()
        self.env["stock.move"].flush_model(["rma_line_id", "value", "state", "location_id"])
        self.flush_model(["is_substitution"])
        # The same figures as _cogs_due, for every received unit at once.
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
        positive = (operator == "=") == value
        return [("id", "in" if positive else "not in", mismatched)]

    # ------------------------------------------------------------------
    # What the unit's COGS reversal should be, and what counts
    # ------------------------------------------------------------------
    def _reverses_cogs_at_receipt(self):
        """The unit's receipt entry reverses (or will reverse) its COGS: authorized or further, not a substitution,
        in real-time valuation."""
        self.ensure_one()
        return (
            self.state not in UNDECIDED_STATES and not self.is_substitution and self.product_id.valuation == "real_time"
        )

    def _cogs_expected(self):
        """(quantity, value) whose COGS must be reversed: what came back, at the value Odoo gave its receipt (none
        for a suspected substitution held at zero, nor in periodic valuation)."""
        self.ensure_one()
        if self.is_substitution or self.product_id.valuation != "real_time":
            return 0.0, 0.0
        receipts = self._receipt_moves()
        return sum(receipts.mapped("product_qty")), sum(receipts.mapped("value"))

    def _cogs_due(self):
        """(quantity, amount) still to reverse for the unit: positive when short, negative when reversed twice.

        Credit note COGS allocated to the unit counts for its received quantity only (it was posted for goods still to
        come back: consumed visit by visit); the receipt rows (the receipt entry and its corrections) count whole."""
        self.ensure_one()
        expected_quantity, expected_amount = self._cogs_expected()
        credit_quantity = credit_amount = receipt_quantity = receipt_amount = 0.0
        for row in self.cogs_reversal_ids:
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

    def _cogs_capacity(self, exclude_moves=()):
        """The unit's quantity that no counting credit note (but ``exclude_moves``) has reversed the COGS of
        (``credit``) or left to its receipt entry (``covered``) yet: what a credit note that does not name the unit
        may still count on it for."""
        self.ensure_one()
        rows = self.cogs_reversal_ids.filtered(
            lambda row: row.is_counting and row.kind in ("credit", "covered") and row.move_id not in exclude_moves
        )
        return max(self.quantity - sum(rows.mapped("quantity")), 0.0)

    # ------------------------------------------------------------------
    # Posting the difference
    # ------------------------------------------------------------------
    def _post_cogs_reversals(self):
        """Post, for each of these units, what its counting records lack (Dr stock valuation / Cr COGS) or exceed
        (the opposite) of its received value, in the company's RMA Dispositions journal, labelled RECEIPT, and record
        it. One entry per company; returns the entries."""
        self.env["rma.cogs.reversal"].flush_model()
        entries = self.env["account.move"]
        # As superuser: the step that settles a unit (a scan, an accountant resetting a credit note) posts in the RMA
        # journal and writes the records, which its user may not.
        units = self.sudo().filtered(lambda line: line.product_id.valuation == "real_time")
        units._lock_units()  # two settlements of one unit at once (a receipt, a credit note) must not both post
        for company, lines in units.grouped("company_id").items():
            currency = company.currency_id
            line_vals, dues, analytic_cache = [], {}, {}
            for line in lines:
                quantity, amount = line._cogs_due()
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
                vals = line._prepare_entry_line_vals(
                    debit, credit, abs(amount), line._entry_label("RECEIPT"), analytic_cache=analytic_cache
                )
                for item in vals:
                    item["quantity"] = abs(quantity) or line.quantity
                line_vals += vals
                dues[line] = (quantity, amount, cogs_account)
            if not line_vals:
                continue
            entry = self._create_entry(company, line_vals, ", ".join(dict.fromkeys(unit.rma_id.name for unit in dues)))
            entries |= entry
            cogs_items = {
                (item.rma_line_id, item.account_id): item for item in entry.line_ids if item.rma_line_id in dues
            }
            self.env["rma.cogs.reversal"].sudo().create(  # as above
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
        its receipt entry (its COGS lines are for other goods). Returns the units allocated to."""
        if not cogs_lines or not units:
            return self.browse()
        Reversal = self.env["rma.cogs.reversal"].sudo()  # the records are the server's: nobody may create them
        Reversal.flush_model()
        allocated = defaultdict(float)
        for row in Reversal.search([("move_line_id", "in", cogs_lines.ids), ("is_counting", "=", True)]):
            allocated[row.move_line_id] += row.quantity
        capacity = {unit: unit._cogs_capacity() for unit in units}
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
        rows = Reversal.create(vals_list)
        return rows.line_id

    def _allocate_earlier_credit_notes(self):
        """At authorization: the COGS that credit notes posted earlier for these units' sale lines and did not
        allocate (the units were not on an open RMA then) is allocated to them now, explicitly."""
        units = self.filtered(lambda line: line._reverses_cogs_at_receipt() and line.sale_line_id)
        if not units:
            return self.browse()
        cogs_lines = self.env["account.move.line"]._rma_posted_cogs_credits(units.sale_line_id)
        return self._allocate_credit_cogs(cogs_lines, units)
