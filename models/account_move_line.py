from odoo import api, fields, models

from .rma_disposition import REPAIR_LEVELS
from .rma_workflow_guard import ensure_workflow_fields


class AccountMoveLine(models.Model):
    """Journal items of returned units: each names its unit and disposition (server-owned links, refused to a client's
    create or write), and the items of the RMA entries are built here, per unit, labelled (accounting contract)."""

    _inherit = "account.move.line"

    rma_line_id = fields.Many2one(
        "rma.line", string="RMA Unit", readonly=True, copy=False, index="btree_not_null", ondelete="restrict"
    )
    rma_id = fields.Many2one(related="rma_line_id.rma_id", string="RMA", store=True, index="btree_not_null")
    rma_disposition_id = fields.Many2one(
        "rma.disposition", string="Disposition", readonly=True, copy=False, index="btree_not_null"
    )
    rma_cogs_covered_qty = fields.Float(
        string="Quantity Reversed by RMAs",
        digits="Product Unit",
        readonly=True,
        copy=False,
        help="Credit notes: the quantity of this line whose cost of goods sold the RMA receipt entries of its units"
        " reverse, so that the credit note posts no COGS for it (recorded when it is posted).",
    )
    rma_cogs_reversal_ids = fields.One2many("rma.cogs.reversal", "move_line_id", string="COGS Reversals", readonly=True)
    rma_cogs_line_ids = fields.Many2many(
        "rma.line",
        string="Reverses COGS of",
        compute="_compute_rma_cogs_line_ids",
        help="The returned units whose cost of goods sold this journal item reverses (or leaves to their RMA receipt"
        " entry), as recorded when it posted.",
    )

    @api.depends("rma_cogs_reversal_ids")
    def _compute_rma_cogs_line_ids(self):
        for item in self:
            item.rma_cogs_line_ids = item.rma_cogs_reversal_ids.line_id

    @api.model_create_multi
    def create(self, vals_list):
        # The addon's links (unit, disposition, covered quantity) are the server's: a client's create may not set them.
        ensure_workflow_fields(self, {name for vals in vals_list for name in vals})
        return super().create(vals_list)

    def write(self, vals):
        ensure_workflow_fields(self, vals)
        return super().write(vals)

    def action_open_rma_line(self):
        """A row of RMA Entries opens the returned unit the item is for."""
        self.ensure_one()
        return self.rma_line_id._get_records_action(name=self.env._("Returned Unit"))

    # ------------------------------------------------------------------
    # Journal items of the RMA entries (account.move._rma_create_entry posts them)
    # ------------------------------------------------------------------
    @api.model
    def _rma_label(self, unit, code):
        """Line labels carry the RMA number, the serial and the code: labels are covered by the journal's hash."""
        return f"{unit.rma_id.name} {unit.serial_number or unit.product_id.display_name} {code}"

    @api.model
    def _rma_disposition_code(self, unit):
        """The unit's disposition code as line labels show it: REF, REP L2..."""
        level = dict(REPAIR_LEVELS).get(unit.repair_level)
        return f"{unit.disposition_id.code} {level}" if level else unit.disposition_id.code or ""

    @api.model
    def _rma_entry_line_vals(
        self, unit, debit_account, credit_account, amount, label, quantity=None, analytic_cache=None
    ):
        """A balanced debit/credit pair for ``unit`` (``quantity``: the unit's by default; ``analytic_cache``: shared
        by the lines of a batch)."""
        partner = unit.rma_id.partner_id.commercial_partner_id
        cache = {} if analytic_cache is None else analytic_cache
        common = {
            "name": label,
            "product_id": unit.product_id.id,
            "quantity": unit.quantity if quantity is None else quantity,
            "rma_line_id": unit.id,
            "rma_disposition_id": unit.disposition_id.id,
            "partner_id": partner.id,
        }
        return [
            {
                **common,
                "account_id": account.id,
                "debit": debit,
                "credit": credit,
                "analytic_distribution": self._rma_analytic_distribution(
                    unit.product_id, partner, account, unit.company_id, cache
                ),
            }
            for account, debit, credit in ((debit_account, amount, 0.0), (credit_account, 0.0, amount))
        ]

    @api.model
    def _rma_analytic_distribution(self, product, partner, account, company, cache):
        """The distribution Odoo's analytic distribution models give such a line, computed once per key of a
        batch (``cache``) with Odoo's own arguments: its compute runs line by line, a few queries each. An RMA
        line has no related document distribution, so the models are all there is to apply."""
        key = (product.id, partner.id, account.id, company.id)
        if key not in cache:
            line = self.new(
                {
                    "move_id": self.env["account.move"].new({"company_id": company.id}),
                    "product_id": product.id,
                    "partner_id": partner.id,
                    "account_id": account.id,
                }
            )
            arguments = line._get_analytic_distribution_arguments(self.env["account.analytic.plan"])
            # Whoever moves the unit (warehouse staff) may not read the distribution models, which apply all the same.
            cache[key] = self.env["account.analytic.distribution.model"].sudo()._get_distribution(arguments)
        return cache[key] or False

    # ------------------------------------------------------------------
    # Credit notes and the COGS reversal of returned units (see account.move)
    # ------------------------------------------------------------------
    def _eligible_for_stock_account(self):
        # A credit note line whose units' COGS their RMA receipt entries reverse in full gets no COGS line: it is not
        # eligible (rma_cogs_covered_qty, recorded by account.move._post before Odoo prepares those lines).
        if self.rma_cogs_covered_qty and self.product_uom_id.compare(self.rma_cogs_covered_qty, self.quantity) >= 0:
            return False
        return super()._eligible_for_stock_account()

    def _rma_sale_lines(self):
        """The sale lines a credit note line credits: its own, or those of the invoice line it reverses."""
        self.ensure_one()
        if self.sale_line_ids:
            return self.sale_line_ids
        reversed_lines = self.move_id.reversed_entry_id.invoice_line_ids
        return reversed_lines.filtered(lambda line: line.product_id == self.product_id).sale_line_ids

    def _rma_cogs_sale_lines(self):
        """The sale lines a COGS journal item of a credit note is for: those of its credit note line, or (a line
        copied by a modify reversal has no origin) those of the credit note's lines of its product."""
        self.ensure_one()
        origins = self.cogs_origin_id or self.move_id.invoice_line_ids.filtered(
            lambda line: line.display_type == "product" and line.product_id == self.product_id
        )
        return self.env["sale.order.line"].union(*(origin._rma_sale_lines() for origin in origins))

    @api.model
    def _rma_posted_cogs_credits(self, sale_lines):
        """The posted Cr COGS journal items of credit notes for ``sale_lines`` (their own lines, or reversing their
        invoice lines), whose entry is not reversed. Called as superuser
        (rma.cogs.reversal._allocate_earlier_credit_notes: the manager authorizing an RMA need not read invoices)."""
        items = self.search(
            [
                ("display_type", "=", "cogs"),
                ("parent_state", "=", "posted"),
                ("move_id.move_type", "=", "out_refund"),
                ("balance", "<", 0.0),
                ("product_id", "in", sale_lines.product_id.ids),
                "|",
                ("move_id.invoice_line_ids.sale_line_ids", "in", sale_lines.ids),
                ("move_id.reversed_entry_id.invoice_line_ids.sale_line_ids", "in", sale_lines.ids),
            ]
        )
        return items.filtered(
            lambda item: (
                item._rma_cogs_sale_lines() & sale_lines
                and not any(reversal.state == "posted" for reversal in item.move_id.reversal_move_ids)
            )
        )
