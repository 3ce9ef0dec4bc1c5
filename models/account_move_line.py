from odoo import api, fields, models

from .rma_server_context import server_value


class AccountMoveLine(models.Model):
    _name = "account.move.line"
    _inherit = ["account.move.line", "rma.server.fields.mixin"]

    rma_line_id = fields.Many2one(
        "rma.line", string="RMA Unit", readonly=True, copy=False, index="btree_not_null", ondelete="restrict"
    )
    rma_id = fields.Many2one(related="rma_line_id.rma_id", string="RMA", store=True, index="btree_not_null")
    rma_disposition_id = fields.Many2one(
        "rma.disposition", string="Disposition", readonly=True, copy=False, index="btree_not_null"
    )

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
            cache[key] = self.env["account.analytic.distribution.model"].sudo()._get_distribution(arguments)
        return cache[key] or False

    # ------------------------------------------------------------------
    # Credit notes and the COGS reversal of returned units (see account.move)
    # ------------------------------------------------------------------
    def _eligible_for_stock_account(self):
        # A credit note line whose units' COGS their RMA receipt entries reverse gets no COGS line: it is not
        # eligible (rma_cogs_covered_line_ids, server-only, set by account.move while it prepares those lines).
        if self.id in server_value(self.env, "rma_cogs_covered_line_ids", ()):
            return False
        return super()._eligible_for_stock_account()

    def _rma_sale_lines(self):
        """The sale lines a credit note line credits: its own, or those of the invoice line it reverses."""
        self.ensure_one()
        if self.sale_line_ids:
            return self.sale_line_ids
        reversed_lines = self.move_id.reversed_entry_id.invoice_line_ids
        return reversed_lines.filtered(lambda line: line.product_id == self.product_id).sale_line_ids

    @api.model
    def _rma_posted_refund_lines(self, sale_lines, exclude=None):
        """The posted credit note lines of ``sale_lines`` (their own, or reversing their invoice lines)."""
        domain = [
            ("move_id.move_type", "=", "out_refund"),
            ("parent_state", "=", "posted"),
            ("display_type", "=", "product"),
            "|",
            ("sale_line_ids", "in", sale_lines.ids),
            ("move_id.reversed_entry_id.invoice_line_ids.sale_line_ids", "in", sale_lines.ids),
        ]
        if exclude:
            domain.append(("move_id", "not in", exclude.ids))
        lines = self.sudo().search(domain)
        return lines.filtered(lambda line: line._rma_sale_lines() & sale_lines)

    def _rma_cogs_quantities(self):
        """{credit note line: quantity whose COGS its own COGS lines reversed}."""
        if not self:
            return {}
        quantities = {}
        for cogs in self.sudo().search([("cogs_origin_id", "in", self.ids), ("display_type", "=", "cogs")]):
            origin = cogs.cogs_origin_id
            quantities[origin] = max(quantities.get(origin, 0.0), abs(cogs.quantity))
        return quantities
