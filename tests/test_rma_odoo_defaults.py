from odoo.tests import tagged

from .common_accounting import RmaAccountingCommon


@tagged("post_install", "-at_install")
class TestRmaOdooDefaults(RmaAccountingCommon):
    """What the addon sets up leaves Odoo's own defaults and rights as they are (Odoo's suites in make test-core)."""

    def test_accounts_coded_after_the_charts_own(self):
        """The accounts made with the chart come after the chart's accounts of their type: the first account of a
        type by code, which Odoo (and its accounting tests) take as that type's default, stays the chart's."""
        company = self.company
        accounts = self.env["account.account"].with_company(company)
        domain = accounts._check_company_domain(company)
        defaults = self.env["ir.default"].sudo()
        ours = (
            company.rma_warranty_account_id
            | company.rma_vendor_claims_account_id
            | accounts.browse(
                defaults._get("rma.disposition", field_name, company_id=company.id)
                for field_name in (
                    "accrued_cost_account_id",
                    "recovery_account_id",
                    "nrv_allowance_account_id",
                    "cost_variance_account_id",
                )
            )
        )
        self.assertEqual(len(ours), 6)
        for account in ours:
            charts = accounts.search([*domain, ("account_type", "=", account.account_type), ("id", "not in", ours.ids)])
            self.assertTrue(charts, account.account_type)
            self.assertGreater(account.code, max(charts.mapped("code")), account.name)
        # As Odoo's AccountTestInvoicingCommon picks the default expense account (e.g. for purchase_stock's
        # accrual tests): the company's own expense account, not the addon's Standard Cost Variance.
        first_expense = accounts.search(
            [
                *domain,
                ("account_type", "=", "expense"),
                ("id", "!=", company.account_journal_early_pay_discount_loss_account_id.id),
            ],
            limit=1,
        )
        self.assertEqual(first_expense, company.expense_account_id)

    def test_stock_manager_of_one_company_creates_a_warehouse(self):
        """A stock manager limited to his company creates a warehouse there while another company has its own: the
        return locations are made in his rights (no superuser read of the other company's warehouses). He is an
        administrator too: Odoo enables multi-warehouses through the settings with a company's second warehouse."""
        other_company = self.env["res.company"].create({"name": "RMA Elsewhere"})
        self.assertTrue(self.env["stock.warehouse"].search([("company_id", "=", other_company.id)]))
        manager = self._new_user("rma_wh_manager", "stock.group_stock_manager,base.group_system")
        warehouse = (
            self.env["stock.warehouse"]
            .with_user(manager)
            .create({"name": "RMA WH B", "code": "RWHB", "company_id": self.company.id})
        )
        self.assertTrue(warehouse.rma_quarantine_location_id)
        for location in warehouse._rma_outside_locations():
            self.assertEqual(location.company_id, self.company)
            self.assertEqual(location.location_id, self.company.rma_location_view_id)
        self.assertEqual(len(warehouse._rma_outside_locations()), 5)
