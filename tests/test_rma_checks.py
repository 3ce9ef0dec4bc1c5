from dateutil.relativedelta import relativedelta

from odoo import Command, fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, tagged

from odoo.addons.rma_recovery.models.rma_line_checks import is_luhn_valid

from .common import RmaCommon
from .common_rpc import ACCESS_ERROR, USER_ERROR, RmaRpcCommon


@tagged("post_install", "-at_install")
class TestRmaChecks(RmaCommon):
    def _backdate(self, picking, **delta):
        picking.move_ids.write({"date": fields.Datetime.now() - relativedelta(**delta)})

    def test_luhn(self):
        self.assertTrue(is_luhn_valid("490154203237518"))
        self.assertFalse(is_luhn_valid("490154203237519"))

    def test_delivered_serial_passes_every_check(self):
        picking = self._deliver(self.customer, self.laptop, ["LT-0001"])
        rma = self._create_rma([(self.laptop, "LT-0001")], partner=self.customer_contact)
        self.assertRecordValues(
            rma.line_ids,
            [
                {
                    "lot_id": self.env["stock.lot"].search([("name", "=", "LT-0001")]).id,
                    "delivery_move_id": picking.move_ids.id,
                    "warranty_state": "in_warranty",
                    "policy_state": "eligible",
                    "has_flag": False,
                    "flag_summary": "",
                }
            ],
        )
        self.assertFalse(rma.has_flag)

    def test_unknown_serial(self):
        rma = self._create_rma([(self.laptop, "NOT-A-SERIAL")])
        line = rma.line_ids
        self.assertRecordValues(line, [{"lot_id": False, "is_unknown_serial": True, "has_flag": True}])
        self.assertEqual(line.flag_summary, "Unknown Serial")
        self.assertEqual(line.warranty_state, "unknown")
        self.assertTrue(rma.has_flag)

    def test_serial_shipped_to_another_customer(self):
        self._deliver(self.other_customer, self.laptop, ["LT-0002"])
        line = self._create_rma([(self.laptop, "LT-0002")]).line_ids
        self.assertTrue(line.is_not_shipped_to_customer)
        self.assertFalse(line.is_unknown_serial)
        self.assertIn("Not Shipped to This Customer", line.flag_summary)

    def test_serial_in_stock_never_shipped(self):
        lot = self.env["stock.lot"].create({"product_id": self.laptop.id, "name": "LT-STOCK"})
        self.env["stock.quant"]._update_available_quantity(self.laptop, self.stock_location, 1, lot_id=lot)
        line = self._create_rma([(self.laptop, "LT-STOCK")]).line_ids
        self.assertRecordValues(line, [{"is_in_stock": True, "is_not_shipped_to_customer": True, "has_flag": True}])

    def test_latest_delivery_counts(self):
        """Shipped to us, returned, then shipped to someone else: the unit is no longer this customer's."""
        self._deliver(self.customer, self.laptop, ["LT-0003"])
        self.assertFalse(self._create_rma([(self.laptop, "LT-0003")]).line_ids.has_flag)
        self.env["rma.order"].search([("partner_id", "=", self.customer.id)]).action_cancel()
        self._deliver(self.other_customer, self.laptop, ["LT-0003"])
        line = self._create_rma([(self.laptop, "LT-0003")]).line_ids
        self.assertTrue(line.is_not_shipped_to_customer)

    def test_open_on_another_rma(self):
        self._deliver(self.customer, self.laptop, ["LT-0004"])
        first = self._create_rma([(self.laptop, "LT-0004")])
        second = self._create_rma([(self.laptop, "LT-0004")])
        self.assertTrue(second.line_ids.is_open_elsewhere)
        self.assertEqual(second.line_ids.open_rma_line_id, first.line_ids)
        self.assertIn(f"Open on {first.display_name}", second.line_ids.flag_summary)
        # A cancelled RMA no longer holds the unit.
        first.action_cancel()
        second.action_run_checks()
        self.assertFalse(second.line_ids.is_open_elsewhere)
        self.assertFalse(second.has_flag)

    def test_imei_check_digit(self):
        good, bad = self._imei(1), self._imei(2)[:-1] + str((int(self._imei(2)[-1]) + 1) % 10)
        self._deliver(self.customer, self.phone, [good, bad])
        rma = self._create_rma([(self.phone, good), (self.phone, bad)])
        self.assertRecordValues(
            rma.line_ids,
            [{"is_invalid_imei": False, "has_flag": False}, {"is_invalid_imei": True, "has_flag": True}],
        )

    def test_malformed_imei_is_refused(self):
        for malformed in ("35693803000001", "3569380300000A1", "IMEI-1"):
            with self.subTest(imei=malformed), self.assertRaises(ValidationError):
                self._create_rma([(self.phone, malformed)])
        self.assertFalse(self.env["rma.order"].search([("partner_id", "=", self.customer.id)]))

    def test_serial_required_and_one_per_line(self):
        with self.assertRaises(ValidationError):
            self._create_rma([(self.laptop, False)])
        with self.assertRaises(ValidationError):
            self._create_rma([(self.laptop, "LT-Q", 2)])
        with self.assertRaises(ValidationError):
            self._create_rma([(self.laptop, "LT-D"), (self.laptop, "LT-D")])
        with self.assertRaises(ValidationError):
            self._create_rma([(self.cable, False, 0)])

    def test_same_serial_twice_on_a_request_whatever_its_case_or_spaces(self):
        # The scans match a serial trimmed and case-insensitively: these are one unit. (Odoo's assertRaises: its
        # savepoint undoes what was written, as the request's rollback does.)
        with self.assertRaises(ValidationError) as refused:
            self._create_rma([(self.laptop, "LT-ABC123"), (self.laptop, " lt-abc123 ")], user=self.rma_user)
        self.assertIn("appears twice", str(refused.exception))
        rma = self._create_rma([(self.laptop, "LT-ABC123")], user=self.rma_user)
        with self.assertRaises(ValidationError) as refused:
            rma.with_user(self.rma_user).line_ids = [
                Command.create({"product_id": self.laptop.id, "serial_number": "Lt-Abc123 "})
            ]
        self.assertIn("appears twice", str(refused.exception))
        self.assertEqual(rma.line_ids.mapped("serial_number"), ["LT-ABC123"])

    def test_only_goods_are_returned(self):
        service = self.env["product.product"].create({"name": "Test Installation", "type": "service"})
        with self.assertRaises(ValidationError) as refused:
            self._create_rma([(service, False, 1.0)], user=self.rma_user)
        self.assertIn("Only goods can be returned", str(refused.exception))
        rma = self._create_rma([(self.cable, False, 1.0)], user=self.rma_user)
        with self.assertRaises(ValidationError) as refused:
            rma.line_ids.with_user(self.rma_user).product_id = service
        self.assertIn("Only goods can be returned", str(refused.exception))
        self.assertEqual(rma.line_ids.product_id, self.cable)
        self.assertFalse(self.env["rma.line"].search([("product_id", "=", service.id)]))

    def test_referenced_delivery(self):
        first = self._deliver(self.customer, self.laptop, ["LT-0005"])
        second = self._deliver(self.customer, self.laptop, ["LT-0006"])
        rma = self._create_rma([(self.laptop, "LT-0005")], picking_id=second.id)
        self.assertTrue(rma.line_ids.is_not_on_order)
        rma.picking_id = first
        self.assertFalse(rma.line_ids.is_not_on_order)
        self.assertEqual(rma.line_ids.delivery_move_id, first.move_ids)

    def test_referenced_sale_order(self):
        order = self.env["sale.order"].create(
            {"partner_id": self.customer.id, "order_line": [Command.create({"product_id": self.laptop.id})]}
        )
        other_order = order.copy()
        self._deliver(self.customer, self.laptop, ["LT-0007"], sale_order=order)
        ok = self._create_rma([(self.laptop, "LT-0007")], sale_order_id=order.id)
        self.assertFalse(ok.line_ids.has_flag)
        ko = self._create_rma([(self.laptop, "LT-0007")], sale_order_id=other_order.id)
        self.assertTrue(ko.line_ids.is_not_on_order)
        self.assertIn("Not on the Referenced Order", ko.line_ids.flag_summary)

    def test_warranty_and_return_window(self):
        """Product warranty overrides the category's, which overrides the company's; the window is per category."""
        picking = self._deliver(self.customer, self.laptop, ["LT-0008"])
        self._backdate(picking, months=6)
        rma = self._create_rma([(self.laptop, "LT-0008")])
        line = rma.line_ids
        delivered_on = fields.Date.to_date(picking.move_ids.date)
        # Company: 12 months warranty, 30 days window.
        self.assertRecordValues(
            line,
            [
                {
                    "warranty_state": "in_warranty",
                    "warranty_end_date": delivered_on + relativedelta(months=12),
                    "return_deadline": delivered_on + relativedelta(days=30),
                    "policy_state": "eligible",
                    "has_flag": False,
                }
            ],
        )
        self.category.rma_warranty_months = 3
        rma.action_run_checks()
        self.assertRecordValues(line, [{"warranty_state": "expired", "policy_state": "ineligible", "has_flag": True}])
        self.assertIn("Outside Return Policy", line.flag_summary)
        self.laptop.rma_warranty_months = 24
        rma.action_run_checks()
        self.assertEqual(line.warranty_state, "in_warranty")
        self.laptop.rma_warranty_months = 0
        self.category.rma_return_window_days = 365
        rma.action_run_checks()
        self.assertRecordValues(line, [{"warranty_state": "expired", "policy_state": "eligible", "has_flag": False}])

    def test_untracked_quantity(self):
        picking = self._deliver(self.customer, self.cable, quantity=10)
        line = self._create_rma([(self.cable, False, 3)]).line_ids
        self.assertRecordValues(
            line, [{"quantity": 3, "delivery_move_id": picking.move_ids.id, "has_flag": False, "lot_id": False}]
        )
        unknown = self._create_rma([(self.cable, False, 1)], partner=self.other_customer).line_ids
        self.assertEqual(unknown.warranty_state, "unknown")

    def test_checks_follow_line_changes(self):
        self._deliver(self.customer, self.laptop, ["LT-0009"])
        rma = self._create_rma([(self.laptop, "LT-0010")])
        self.assertTrue(rma.has_flag)
        rma.line_ids.serial_number = "LT-0009"
        self.assertFalse(rma.line_ids.has_flag)
        self.assertFalse(rma.has_flag)
        rma.partner_id = self.other_customer
        self.assertTrue(rma.line_ids.is_not_shipped_to_customer)

    def test_wrong_company_product(self):
        other_company = self.env["res.company"].create({"name": "RMA Other Company"})
        foreign = self.env["product.product"].create(
            {"name": "Foreign laptop", "is_storable": True, "tracking": "serial", "company_id": other_company.id}
        )
        with self.assertRaises(UserError):
            self._create_rma([(foreign, "FOREIGN-1")])
        self.assertFalse(self.env["rma.line"].search([("serial_number", "=", "FOREIGN-1")]))

    def test_return_window_counts_to_the_authorization(self):
        """A backdated request (only the server can write one) does not bring a late return into the window."""
        self.company.rma_warranty_months = 0
        picking = self._deliver(self.customer, self.laptop, ["HD-0201"])
        picking.move_ids.date = fields.Datetime.subtract(fields.Datetime.now(), days=40)
        rma = self._create_rma(
            [(self.laptop, "HD-0201")], request_date=fields.Datetime.subtract(fields.Datetime.now(), days=35)
        )
        self.assertRecordValues(rma.line_ids, [{"policy_state": "ineligible", "is_outside_policy": True}])
        with self.assertRaisesRegex(UserError, "failed a check"):
            rma.action_authorize()

    def test_imei_with_letters_gets_the_validation_message(self):
        full_width = "".join(chr(0xFF10 + int(digit)) for digit in self._imei(1))
        for typed in ("35693803 000001", "3569380300000AB", "ABCDEFGHIJKLMNO", full_width):
            with self.subTest(imei=typed):
                # Typed in the form: the checks run as the user types (onchange), then the save is refused.
                form = Form(self.env["rma.order"].with_user(self.rma_user))
                form.partner_id = self.customer
                form.reason_id = self.reason
                with form.line_ids.new() as unit:
                    unit.product_id = self.phone
                    unit.serial_number = typed
                with self.assertRaisesRegex(ValidationError, "not an IMEI"):
                    form.save()


@tagged("post_install", "-at_install")
class TestRmaChecksRpc(RmaRpcCommon):
    """Re-running the checks over JSON-RPC: only on requested RMAs, only by their editors."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.accountant = cls._new_user("rma_guard_accountant", "account.group_account_readonly")

    def test_checks_are_rerun_only_on_requested_rmas_by_their_editors(self):
        """The checks store the unit's serial and delivery links, which the receipt's value and the COGS matching
        follow: once the RMA is decided nobody recomputes them, and a reader of a requested RMA cannot either."""
        rma = self._authorized_rma(["G18-C001"])
        line = rma.line_ids
        self.env["stock.picking"]._rma_receive(line, station="DOCK-1")
        delivery_move = line.delivery_move_id
        self.assertTrue(delivery_move)
        # Recomputed now, the unit in quarantine would read "already in stock".
        for user in (self.rma_user, self.rma_manager):
            with self.subTest(user=user.login):
                self.assertRefused(self._call(user, "rma.order", "action_run_checks", rma.ids), USER_ERROR)
        self.assertRefused(self._call(self.accountant, "rma.order", "action_run_checks", rma.ids))
        self.assertRecordValues(
            line, [{"delivery_move_id": delivery_move.id, "lot_id": line.lot_id.id, "has_flag": False}]
        )

        self._deliver(self.customer, self.laptop, ["G18-C002"])
        requested = self._create_rma([(self.laptop, "G18-C002")], user=self.rma_user)
        self.assertRefused(self._call(self.accountant, "rma.order", "action_run_checks", requested.ids), ACCESS_ERROR)
        # The screen's Re-run Checks on a request stays the requester's: the serial now in stock is flagged.
        self.env["stock.quant"]._update_available_quantity(
            self.laptop, self.stock_location, 1, lot_id=requested.line_ids.lot_id
        )
        self.assertNotIn("error", self._call(self.rma_user, "rma.order", "action_run_checks", requested.ids))
        self.assertTrue(requested.line_ids.is_in_stock)
