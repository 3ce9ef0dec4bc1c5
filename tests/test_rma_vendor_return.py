from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import dashboard_pivot_totals
from .common_disposition import RmaDispositionCommon
from .common_rpc import RmaRpcCommon

PRICE = 400.0


class RmaVendorReturnCommon:
    """Units bought from a vendor on a real purchase order (received with serials and billed), delivered to a
    customer, returned, received and inspected: ready to go back to their vendor (RTV)."""

    @classmethod
    def _setup_vendor(cls):
        cls.rtv = cls.env.ref("rma_recovery.rma_disposition_rtv")
        cls.vendor = cls.env["res.partner"].create({"name": "Vendor OEM", "company_id": cls.company.id})
        cls.claims_account = cls.company.rma_vendor_claims_account_id
        cls._serial = 0

    def _buy(self, product, serials, price=PRICE, warranty_months=12, bill=True):
        product.standard_price = price
        self.env["product.value"].sudo().search([("product_id", "=", product.id), ("move_id", "=", False)]).write(
            {"date": fields.Datetime.subtract(fields.Datetime.now(), minutes=1)}
        )
        product.seller_ids = [
            Command.create({"partner_id": self.vendor.id, "price": price, "rma_warranty_months": warranty_months})
        ]
        order = self.env["purchase.order"].create(
            {
                "partner_id": self.vendor.id,
                "company_id": self.company.id,
                "picking_type_id": self.warehouse.in_type_id.id,
                "order_line": [
                    Command.create({"product_id": product.id, "product_qty": len(serials), "price_unit": price})
                ],
            }
        )
        order.button_confirm()
        move = order.picking_ids.move_ids
        move.move_line_ids.unlink()
        move.write(
            {
                "move_line_ids": [
                    Command.create({"product_id": product.id, "lot_name": serial, "quantity": 1}) for serial in serials
                ],
                "picked": True,
            }
        )
        order.picking_ids.button_validate()
        if bill:
            order.action_create_invoice()
            order.invoice_ids.invoice_date = fields.Date.today()
            order.invoice_ids.action_post()
        return order

    def _returned_unit(self, product=None, warranty_months=12, bought=True):
        """A unit bought from the vendor, sold, returned, received and inspected."""
        type(self)._serial += 1
        serial = f"RTV-{self._serial:04d}"
        product = product or self._new_product("fifo")
        if bought:
            self._buy(product, [serial], warranty_months=warranty_months)
        else:
            self._purchase(product, [serial], PRICE)
        self._deliver(self.customer, product, [serial], from_stock=True)
        rma = self._create_rma([(product, serial)])
        rma.action_authorize()
        self.env["stock.picking"]._rma_receive(rma.line_ids, station="DOCK-1")
        return self._inspect(rma.line_ids)

    def _to_vendor(self, unit):
        """Dispositioned RTV, requested and shipped: the unit's vendor RMA line."""
        self._dispose(unit, self.rtv)
        vendor_return = unit.vendor_return_id.with_user(self.rma_manager)
        vendor_return.action_request()
        vendor_return.authorization_number = "OEM-42"
        vendor_return.action_ship()
        return vendor_return.line_ids.filtered(lambda line: line.unit_id == unit)

    def _quant_qty(self, lot, location):
        return sum(
            self.env["stock.quant"]
            .search([("lot_id", "=", lot.id), ("location_id", "=", location.id)])
            .mapped("quantity")
        )

    def _claims_balance(self):
        lines = self.env["account.move.line"].search(
            [("account_id", "=", self.claims_account.id), ("parent_state", "=", "posted")]
        )
        return sum(lines.mapped("balance"))


@tagged("post_install", "-at_install")
class TestRmaVendorReturn(RmaVendorReturnCommon, RmaDispositionCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_vendor()

    def test_rtv_refused_without_vendor_purchase_or_warranty(self):
        not_bought = self._returned_unit(bought=False)
        with self.assertRaisesRegex(UserError, "not received from a vendor"):
            self._dispose(not_bought, self.rtv)
        self.assertEqual(not_bought.state, "inspection")
        self.assertFalse(not_bought.vendor_return_id)
        no_warranty = self._returned_unit(warranty_months=0)
        with self.assertRaisesRegex(UserError, "out of .* warranty"):
            self._dispose(no_warranty, self.rtv)
        self.assertEqual(no_warranty.state, "inspection")
        # the category's warranty applies when the vendor's product info has none
        no_warranty.product_id.categ_id.rma_vendor_warranty_months = 24
        self._dispose(no_warranty, self.rtv)
        self.assertEqual(no_warranty.state, "disposition")

    def test_grouping_per_vendor_and_sequence(self):
        first, second = self._returned_unit(), self._returned_unit()
        self._dispose(first, self.rtv)
        self._dispose(second, self.rtv)
        vendor_return = first.vendor_return_id
        self.assertTrue(vendor_return.name.startswith(f"VRMA/{fields.Date.today().year}/"))
        self.assertEqual(second.vendor_return_id, vendor_return, "one draft per vendor and company")
        self.assertEqual(vendor_return.line_ids.unit_id, first | second)
        self.assertEqual(vendor_return.partner_id, self.vendor)
        self.assertEqual(first.state, "disposition")
        vendor_return.with_user(self.rma_manager).action_request()
        third = self._returned_unit()
        self._dispose(third, self.rtv)
        self.assertNotEqual(third.vendor_return_id, vendor_return, "a requested vendor RMA takes no new unit")
        self.assertEqual(third.vendor_return_id.state, "draft")
        withdrawn = vendor_return.line_ids.filtered(lambda line: line.unit_id == second)
        withdrawn.with_user(self.rma_manager).action_withdraw()
        self.assertEqual(second.state, "inspection")
        self.assertFalse(second.disposition_id)
        self.assertFalse(second.vendor_return_id)
        self.assertEqual(vendor_return.line_ids.unit_id, first)
        with self.assertRaisesRegex(UserError, "authorization number"):
            vendor_return.with_user(self.rma_manager).action_ship()
        with self.assertRaises(AccessError):
            vendor_return.with_user(self.rma_user).action_ship()

    def test_ship_and_credit(self):
        unit = self._returned_unit()
        quarantine = self.warehouse.rma_quarantine_location_id
        self.assertEqual(self._quant_qty(unit.lot_id, quarantine), 1)
        purchase_line = self.env["purchase.order.line"].search([("product_id", "=", unit.product_id.id)])
        self.assertEqual(purchase_line.qty_received, 1)
        before = self._values()
        line = self._to_vendor(unit)
        self._assert_step_balanced(before, self._values())
        supplier = line.ship_move_id.location_dest_id
        self.assertEqual(supplier.usage, "supplier")
        self.assertEqual(self._quant_qty(unit.lot_id, quarantine), 0)
        self.assertEqual(line.ship_move_id.state, "done")
        self.assertTrue(line.ship_move_id.to_refund)
        self.assertEqual(line.ship_move_id.move_line_ids.lot_id, unit.lot_id)
        self.assertEqual(purchase_line.qty_received, 0, "the purchase return lowers the received quantity")
        self.assertEqual(line.vendor_return_id.state, "shipped")
        self.assertAlmostEqual(line.value_sent, PRICE)
        self.assertAlmostEqual(self._claims_balance(), PRICE)
        self.assertIn("shipment", unit.custody_event_ids.mapped("event_type"))
        before = self._values()
        line.with_user(self.rma_manager).action_answer_credit()
        self._assert_step_balanced(before, self._values())
        refund = line.refund_id
        self.assertEqual(refund.move_type, "in_refund")
        self.assertEqual(refund.state, "posted")
        self.assertEqual(line.refund_line_id.purchase_line_id, purchase_line)
        self.assertEqual(line.refund_line_id.account_id, self.claims_account)
        self.assertAlmostEqual(self._claims_balance(), 0.0)
        self.assertEqual(unit.state, "closed")
        self.assertEqual(line.vendor_return_id.state, "closed")
        self.assertAlmostEqual(line.vendor_return_id.recovery_rate, 100.0)
        self.assertGreaterEqual(line.vendor_return_id.turnaround_days, 0.0)
        # the KPI report's vendor returns: value sent, credited, recovery and turnaround per vendor
        report = self.env["rma.kpi.report"].with_user(self.rma_manager).create({"company_id": self.company.id})
        [row] = report._get_report_data()["vendor"]
        self.assertEqual(row["vendor"], self.vendor.display_name)
        self.assertEqual(row["units"], 1)
        self.assertAlmostEqual(row["sent"], PRICE)
        self.assertAlmostEqual(row["recovered"], PRICE)
        self.assertAlmostEqual(row["pct"], 100.0)
        self.assertIsNotNone(row["turnaround"])
        # The Returns dashboard's vendor tiles (Data!B11, B12) read the same figures.
        manager_env = self.env(user=self.rma_manager)
        recovery = dashboard_pivot_totals(manager_env, "12")
        self.assertAlmostEqual(recovery["value_recovered"] / recovery["value_sent"], row["pct"] / 100)
        self.assertAlmostEqual(dashboard_pivot_totals(manager_env, "14")["turnaround_days"], row["turnaround"])
        action = self.env.ref("rma_recovery.action_report_rma_kpi").with_user(self.rma_manager)
        html = action._render_qweb_html(action.report_name, report.ids)[0].decode()
        self.assertIn("Vendor returns", html)

    def _answer_case(self, cost_method, answer):
        product = self._new_product(cost_method)
        unit = self._returned_unit(product)
        line = self._to_vendor(unit)
        self.assertAlmostEqual(self._claims_balance(), line.value_sent)
        before = self._values()
        if answer == "replacement":
            line.with_user(self.rma_manager).replacement_serial = f"NEW-{unit.serial_number}"
        getattr(line.with_user(self.rma_manager), f"action_answer_{answer}")()
        self._assert_step_balanced(before, self._values())
        self.assertAlmostEqual(self._claims_balance(), 0.0, msg=f"{cost_method} {answer}")
        move = line.receipt_move_id
        self.assertEqual(move.state, "done")
        self.assertAlmostEqual(move.value, line.value_sent)
        lot = move.move_line_ids.lot_id
        if answer == "replacement":
            self.assertNotEqual(lot, unit.lot_id)
            self.assertEqual(unit.state, "closed")
            self.assertAlmostEqual(line.value_recovered, line.value_sent)
        elif answer == "repaired":
            self.assertEqual(lot, unit.lot_id)
            self.assertEqual(unit.state, "ready")
            self.assertEqual(self._quant_qty(lot, self.warehouse.rma_graded_location_id), 1)
        else:
            self.assertEqual(unit.state, "inspection")
            self.assertFalse(unit.disposition_id)
            self.assertEqual(self._quant_qty(lot, self.warehouse.rma_quarantine_location_id), 1)
        self.assertEqual(line.purchase_line_id.qty_received, 1, "the unit came back: received again")
        self.assertEqual(line.vendor_return_id.state, "closed")

    def test_answers_every_cost_method(self):
        for cost_method in ("fifo", "average", "standard"):
            for answer in ("replacement", "repaired", "rejected"):
                with self.subTest(cost_method=cost_method, answer=answer):
                    self._answer_case(cost_method, answer)

    def test_credit_every_cost_method(self):
        for cost_method in ("average", "standard"):
            with self.subTest(cost_method=cost_method):
                unit = self._returned_unit(self._new_product(cost_method))
                line = self._to_vendor(unit)
                before = self._values()
                line.with_user(self.rma_manager).action_answer_credit()
                self._assert_step_balanced(before, self._values())
                self.assertAlmostEqual(self._claims_balance(), 0.0)

    def test_periodic_valuation_follows_odoo(self):
        """Periodic: the addon posts nothing; the credit note is Odoo's own (not Vendor Claims)."""
        unit = self._returned_unit(self._new_product("fifo", valuation="periodic"))
        line = self._to_vendor(unit)
        self.assertFalse(line.entry_ids)
        line.with_user(self.rma_manager).action_answer_credit()
        self.assertNotEqual(line.refund_line_id.account_id, self.claims_account)
        self.assertAlmostEqual(self._claims_balance(), 0.0)
        self.assertEqual(line.refund_line_id.purchase_line_id.qty_invoiced, 0)


@tagged("post_install", "-at_install")
class TestRmaVendorReturnRpc(RmaVendorReturnCommon, RmaRpcCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_vendor()

    def test_user_refused_answering_and_closing(self):
        unit = self._returned_unit()
        line = self._to_vendor(unit)
        for method in ("action_answer_credit", "action_answer_rejected"):
            self.assertRefused(self._call(self.rma_user, "rma.vendor.return.line", method, line.ids))
        self.assertRefused(self._call(self.rma_user, "rma.vendor.return", "action_close", line.vendor_return_id.ids))
        self.assertRefused(self._call(self.rma_inspector, "rma.vendor.return.line", "action_answer_credit", line.ids))
        self.assertFalse(line.answer)
        self.assertEqual(line.vendor_return_id.state, "shipped")
