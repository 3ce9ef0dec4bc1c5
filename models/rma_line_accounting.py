from odoo import Command, fields, models
from odoo.exceptions import UserError


class RmaLine(models.Model):
    """Journal entries of returned units (see the accounting contract)."""

    _inherit = "rma.line"

    account_move_line_ids = fields.One2many("account.move.line", "rma_line_id", string="Journal Items", readonly=True)

    def _entry_label(self, code):
        """Line labels carry the RMA number, the serial and the code: labels are covered by the journal's hash."""
        self.ensure_one()
        return f"{self.rma_id.name} {self.serial_number or self.product_id.display_name} {code}"

    def _post_receipt_entries(self, moves):
        """Real-time valuation: Dr stock valuation / Cr COGS at the value Odoo gave each receipt move.

        Posted once per received unit (receipts are refused twice), in the company's RMA Dispositions journal, one
        entry per company and batch. Suspected substitutions are held at zero value and post nothing.
        """
        moves = moves.filtered(
            lambda move: (
                move.product_id.valuation == "real_time"
                and not move.rma_line_id.is_substitution
                and not move.company_currency_id.is_zero(move.value)
            )
        )
        entries = self.env["account.move"].sudo()
        for company, company_moves in moves.grouped("company_id").items():
            line_vals = []
            for move in company_moves:
                accounts = move.product_id.product_tmpl_id.sudo().with_company(company)._get_product_accounts()
                stock_account, cogs_account = accounts["stock_valuation"], accounts["expense"]
                if not stock_account or not cogs_account:
                    raise UserError(
                        self.env._(
                            "Set the stock valuation and expense (COGS) accounts of %(product)s's category to receive"
                            " returns in real-time valuation.",
                            product=move.product_id.display_name,
                        )
                    )
                line_vals += move.rma_line_id._prepare_entry_line_vals(
                    stock_account, cogs_account, move.value, move.rma_line_id._entry_label("RECEIPT"), move
                )
            entries |= (
                self.env["account.move"]
                .sudo()
                .create(
                    {
                        "move_type": "entry",
                        "journal_id": company._get_rma_journal().id,
                        "company_id": company.id,
                        "date": self.env.context.get("force_period_date") or fields.Date.context_today(self),
                        "ref": ", ".join(company_moves.rma_line_id.rma_id.mapped("name")),
                        "line_ids": [Command.create(vals) for vals in line_vals],
                    }
                )
            )
        entries._post()
        return entries

    def _prepare_entry_line_vals(self, debit_account, credit_account, amount, label, move=None):
        """A balanced debit/credit pair for this unit."""
        self.ensure_one()
        common = {
            "name": label,
            "product_id": self.product_id.id,
            "quantity": move.quantity if move else self.quantity,
            "rma_line_id": self.id,
            "partner_id": self.rma_id.partner_id.commercial_partner_id.id,
        }
        return [
            {**common, "account_id": debit_account.id, "debit": amount, "credit": 0.0},
            {**common, "account_id": credit_account.id, "debit": 0.0, "credit": amount},
        ]
