from datetime import datetime

from freezegun import freeze_time

from odoo.tests import TransactionCase, tagged
from odoo.tools import convert_file

from .common import stand_in_base_demo


@tagged("post_install", "-at_install")
class TestRmaDemoWithChart(TransactionCase):
    """`make run`'s database: the demo on a company with its chart of accounts, as Odoo's demo data gives it (``make
    test`` installs without demo data, so without a chart: tests/test_rma_demo.py walks the demo there). The parts
    that post entries of their own need the chart: the return to vendor (Vendor Claims)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        stand_in_base_demo(cls.env)
        cls.company = cls.env.company
        if not cls.company.chart_template:
            cls.env["account.chart.template"].try_loading("generic_coa", company=cls.company, install_demo=False)
        with freeze_time(datetime(2026, 6, 15, 8, 0, 0), auto_tick_seconds=1):
            convert_file(cls.env, "rma_recovery", "data/rma_demo.xml", {}, mode="init", noupdate=True)

    def test_demo_company_has_its_chart(self):
        self.assertTrue(self.company.chart_template)
        self.assertEqual(self.company.rma_vendor_claims_account_id.account_type, "asset_current")

    def test_demo_unit_returned_to_its_vendor_and_credited(self):
        """Issue 23: in the demo, a docking station bought from its maker went back under the vendor's warranty and
        came back credited, with its entries."""
        vendor_return = self.env["rma.vendor.return"].search([("partner_id.name", "=", "Dockline Manufacturing Ltd.")])
        self.assertEqual(vendor_return.state, "closed")
        self.assertEqual(vendor_return.authorization_number, "DL-RMA-7731")
        line = vendor_return.line_ids
        self.assertEqual(line.answer, "credit")
        self.assertEqual(line.unit_id.state, "closed")
        self.assertEqual(line.unit_id.disposition_id.code, "RTV")
        self.assertEqual(line.refund_id.move_type, "in_refund")
        self.assertEqual(line.refund_id.state, "posted")
        self.assertEqual(line.ship_move_id.location_dest_id.usage, "supplier")
        claims = self.company.rma_vendor_claims_account_id
        entries = line.entry_ids | line.refund_id
        self.assertAlmostEqual(
            sum(entries.line_ids.filtered(lambda aml: aml.account_id == claims).mapped("balance")), 0.0
        )
        self.assertAlmostEqual(line.value_sent, 180.0)
