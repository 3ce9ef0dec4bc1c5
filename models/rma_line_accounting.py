from odoo import Command, fields, models

from .rma_disposition import REPAIR_LEVELS


class RmaLine(models.Model):
    """Journal entries of returned units (see the accounting contract)."""

    _inherit = "rma.line"

    account_move_line_ids = fields.One2many("account.move.line", "rma_line_id", string="Journal Items", readonly=True)

    def _entry_label(self, code):
        """Line labels carry the RMA number, the serial and the code: labels are covered by the journal's hash."""
        self.ensure_one()
        return f"{self.rma_id.name} {self.serial_number or self.product_id.display_name} {code}"

    def _disposition_label(self):
        """The disposition code as line labels show it: REF, REP L2..."""
        self.ensure_one()
        level = dict(REPAIR_LEVELS).get(self.repair_level)
        return f"{self.disposition_id.code} {level}" if level else self.disposition_id.code or ""

    def _post_receipt_entries(self, moves):
        """Real-time valuation: Dr stock valuation / Cr COGS at the value Odoo gave each receipt move, for what no
        credit note allocated to the unit already reversed (see rma.line._post_cogs_reversals): one reversal per unit,
        in the company's RMA Dispositions journal, one entry per company and batch. Suspected substitutions are held at
        zero value and post nothing."""
        return moves.rma_line_id._post_cogs_reversals()

    def _post_work_close_entries(self, moves):
        """The work is finished (contract, "work order closed"):

        - the unit leaves WIP at the value Odoo gave its move: its carrying value K, or the standard price S of a
          standard-cost product. For standard cost, WIP is emptied against the NRV allowance when S > K (the unit
          is carried at K, never above; the write-down is never reversed through its expense account) or
          against the standard cost variance when S < K;
        - the work cost accrued at disposition is settled: Dr accrued work costs / Cr work cost at the estimate
          (the actual cost is what Odoo posts for the parts the repair consumed, and any vendor bill), so the
          accrued liability holds nothing for the unit any more.
        """
        entries = self.env["account.move"].sudo()
        for company, company_moves in moves.grouped("company_id").items():
            line_vals = []
            for move in company_moves:
                line = move.rma_line_id
                accounts = line.disposition_id._get_accounts(line.product_id, company)
                label = line._entry_label(f"{line._disposition_label()} CLOSE")
                difference = move.value - line.carrying_value
                if company.currency_id.compare_amounts(difference, 0.0) > 0:
                    line_vals += line._prepare_entry_line_vals(
                        accounts["location"], accounts["nrv_allowance"], difference, label, move
                    )
                elif company.currency_id.compare_amounts(difference, 0.0) < 0:
                    line_vals += line._prepare_entry_line_vals(
                        accounts["cost_variance"], accounts["location"], -difference, label, move
                    )
                if company.currency_id.compare_amounts(line.work_cost, 0.0) > 0:
                    line_vals += line._prepare_entry_line_vals(
                        accounts["accrued_cost"], accounts["work_cost"], line.work_cost, label, move
                    )
            entries |= self._create_entry(
                company, line_vals, ", ".join(company_moves.rma_line_id.rma_id.mapped("name"))
            )
        return entries

    def _post_work_cancel_entries(self, moves):
        """The work is cancelled: the unit is back in quarantine at the value Odoo gave its move (its book value,
        or the standard price). The disposition's write-down (Dr WIP / Cr write-down) and work cost accrual (Dr
        accrued work costs / Cr work cost) are reversed, and a standard price changed since goes to the standard
        cost variance, so that WIP holds nothing for the unit."""
        entries = self.env["account.move"].sudo()
        for company, company_moves in moves.grouped("company_id").items():
            line_vals = []
            currency = company.currency_id
            for move in company_moves:
                line = move.rma_line_id
                accounts = line.disposition_id._get_accounts(line.product_id, company)
                label = line._entry_label(f"{line._disposition_label()} CANCEL")
                writedown = line.book_value - line.carrying_value
                if currency.compare_amounts(writedown, 0.0) > 0:
                    line_vals += line._prepare_entry_line_vals(
                        accounts["location"], accounts["writedown"], writedown, label, move
                    )
                if currency.compare_amounts(line.work_cost, 0.0) > 0:
                    line_vals += line._prepare_entry_line_vals(
                        accounts["accrued_cost"], accounts["work_cost"], line.work_cost, label, move
                    )
                difference = move.value - line.book_value
                if currency.compare_amounts(difference, 0.0) > 0:
                    line_vals += line._prepare_entry_line_vals(
                        accounts["location"], accounts["cost_variance"], difference, label, move
                    )
                elif currency.compare_amounts(difference, 0.0) < 0:
                    line_vals += line._prepare_entry_line_vals(
                        accounts["cost_variance"], accounts["location"], -difference, label, move
                    )
            entries |= self._create_entry(
                company, line_vals, ", ".join(company_moves.rma_line_id.rma_id.mapped("name"))
            )
        return entries

    def _post_allowance_release(self):
        """A standard-cost unit leaves graded stock: its NRV allowance is released, Dr NRV allowance / Cr COGS
        (contract, "work closed, standard cost")."""
        entries = self.env["account.move"].sudo()
        for company, lines in self.grouped("company_id").items():
            line_vals = []
            for line in lines:
                accounts = line.disposition_id._get_accounts(line.product_id, company)
                allowance = accounts["nrv_allowance"]
                held = -sum(
                    line.account_move_line_ids.filtered(lambda aml, allowance=allowance: aml.account_id == allowance)
                    .sudo()
                    .mapped("balance")
                )
                if company.currency_id.compare_amounts(held, 0.0) <= 0:
                    continue
                cogs = line.product_id.product_tmpl_id.sudo().with_company(company)._get_product_accounts()["expense"]
                line_vals += line._prepare_entry_line_vals(
                    allowance, cogs, held, line._entry_label(f"{line._disposition_label()} RELEASE")
                )
            entries |= self._create_entry(company, line_vals, ", ".join(lines.rma_id.mapped("name")))
        return entries

    def _create_entry(self, company, line_vals, ref):
        """One posted entry in the company's RMA Dispositions journal, or nothing without lines."""
        if not line_vals:
            return self.env["account.move"]
        # Analytic lines are made at posting; skip their synchronisation on each line of the draft.
        entry = (
            self.env["account.move"]
            .sudo()
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

    def _prepare_entry_line_vals(self, debit_account, credit_account, amount, label, move=None, analytic_cache=None):
        """A balanced debit/credit pair for this unit (``analytic_cache``: shared by the lines of a batch)."""
        self.ensure_one()
        partner = self.rma_id.partner_id.commercial_partner_id
        cache = {} if analytic_cache is None else analytic_cache
        distribution = self.env["account.move.line"]._rma_analytic_distribution
        common = {
            "name": label,
            "product_id": self.product_id.id,
            "quantity": move.quantity if move else self.quantity,
            "rma_line_id": self.id,
            "rma_disposition_id": self.disposition_id.id,
            "partner_id": partner.id,
        }
        return [
            {
                **common,
                "account_id": account.id,
                "debit": debit,
                "credit": credit,
                "analytic_distribution": distribution(self.product_id, partner, account, self.company_id, cache),
            }
            for account, debit, credit in ((debit_account, amount, 0.0), (credit_account, 0.0, amount))
        ]
