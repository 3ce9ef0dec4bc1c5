from dateutil.relativedelta import relativedelta
from psycopg2 import IntegrityError

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged
from odoo.tools import mute_logger

from .common import RmaCommon


@tagged("post_install", "-at_install")
class TestRmaHardening(RmaCommon):
    """Identities and facts freeze once decided; bad input is refused in the user's terms."""

    def test_identities_freeze_at_authorization(self):
        rma = self._authorized_rma(["HD-0001"])
        line = rma.line_ids
        self._deliver(self.other_customer, self.laptop, ["HD-0002"])
        manager = self.rma_manager
        for record, values in (
            (rma, {"partner_id": self.other_customer.id}),
            (rma, {"warehouse_id": self.env["stock.warehouse"].create({"name": "Other", "code": "HDW"}).id}),
            (line, {"serial_number": "HD-0002"}),
            (line, {"product_id": self.phone.id}),
            (line, {"quantity": 2.0}),
        ):
            with self.subTest(values=values), self.assertRaisesRegex(UserError, "once"):
                record.with_user(manager).write(values)
        with self.assertRaisesRegex(UserError, "no longer be added"):
            self.env["rma.line"].with_user(manager).create(
                {"rma_id": rma.id, "product_id": self.laptop.id, "serial_number": "HD-0002"}
            )
        self.assertRecordValues(rma, [{"partner_id": self.customer.id}])
        self.assertRecordValues(line, [{"serial_number": "HD-0001", "product_id": self.laptop.id}])
        # Writing back the same value (a form saving untouched fields) is not a change.
        rma.with_user(manager).write({"partner_id": self.customer.id})
        rma.with_user(manager).customer_reference = "PO-9"

    def test_request_date_is_the_servers(self):
        with self.assertRaises(AccessError):
            self._create_rma([(self.laptop, "HD-0101")], user=self.rma_user, request_date="2020-01-01 00:00:00")
        rma = self._create_rma([(self.laptop, "HD-0101")], user=self.rma_user)
        self.assertAlmostEqual(rma.request_date, fields.Datetime.now(), delta=relativedelta(minutes=5))

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

    def test_shared_codes_are_unique(self):
        grade = self.env.ref("rma_recovery.rma_grade_a")
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            self.env["rma.grade"].create({"name": "Another A", "code": grade.code, "company_id": False})
            self.env.flush_all()
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            self.env["rma.reason"].create([{"name": "Twin", "code": "TWIN"}, {"name": "Twin 2", "code": "TWIN"}])
            self.env.flush_all()
        # Per company, the same code as a shared one stays possible.
        self.env["rma.reason"].create({"name": "Mine", "code": "TWIN", "company_id": self.company.id})

    def test_inspection_only_through_its_actions(self):
        rma = self._authorized_rma(["HD-0301"])
        line = rma.line_ids
        inspector = self.rma_inspector
        with self.assertRaises(AccessError):
            self.env["rma.inspection"].with_user(inspector).create({"line_id": line.id})
        with self.assertRaisesRegex(UserError, "received units"):
            line.with_user(inspector).action_start_inspection()
        line._action_receive(station="DOCK-1")
        line.with_user(inspector).action_start_inspection()
        inspection = line.inspection_id
        self.assertRecordValues(inspection, [{"technician_id": inspector.id, "state": "draft"}])
        with self.assertRaises(AccessError):
            inspection.with_user(inspector).write({"state": "done"})
        with self.assertRaisesRegex(UserError, "cosmetic grade"):
            inspection.with_user(inspector).action_done()
        self.assertEqual(inspection.state, "draft")

    def test_same_unit_twice_in_one_disposition_is_refused(self):
        line = self._authorized_rma(["HD-0401"]).line_ids
        line._action_receive(station="DOCK-1")
        line.with_user(self.rma_inspector).action_start_inspection()
        line.inspection_id.with_user(self.rma_inspector).write(
            {"grade_id": self.env.ref("rma_recovery.rma_grade_a").id, "functional_result": "pass"}
        )
        line.inspection_id.with_user(self.rma_inspector).action_done()
        rts = self.env.ref("rma_recovery.rma_disposition_rts")
        wizard = (
            self.env["rma.disposition.wizard"]
            .with_user(self.rma_manager)
            .create(
                {
                    "line_ids": [
                        Command.create({"unit_id": line.id, "disposition_id": rts.id}),
                        Command.create({"unit_id": line.id, "disposition_id": rts.id}),
                    ]
                }
            )
        )
        with self.assertRaisesRegex(UserError, "appears twice"):
            wizard.action_confirm()
        self.assertEqual(line.state, "inspection")

    # ------------------------------------------------------------------
    # Scans
    # ------------------------------------------------------------------
    def test_scans_match_exactly(self):
        rma = self._authorized_rma(["WC-0001", "WC-0002"])
        self._scan(rma.name)
        for typed in ("WC-%", "WC-000_", "%", "_", "\\"):
            with self.subTest(code=typed), self.assertRaisesRegex(UserError, "Nothing was recorded"):
                self._scan(typed, rma=rma)
        with self.assertRaisesRegex(UserError, "not an RMA number"):
            self._scan("RMA/%")
        self.assertEqual(set(rma.line_ids.mapped("state")), {"authorized"})
        self._scan("  wc-0002 ", rma=rma)  # trimmed, case-insensitive
        self.assertEqual(rma.line_ids.filtered(lambda line: line.serial_number == "WC-0002").state, "received")

    def test_ambiguous_substitute_serial_is_refused(self):
        rma = self._authorized_rma(["AM-0001"])
        desktop = self._create_product("Test Desktop", tracking="serial")
        self._deliver(self.other_customer, self.laptop, ["AM-TWIN"])
        self._deliver(self.other_customer, desktop, ["AM-TWIN"])
        with self.assertRaisesRegex(UserError, "several products.*Test (Laptop|Desktop).*Test (Laptop|Desktop)"):
            self._scan(rma.name, "AM-TWIN")
        self.assertEqual(len(rma.line_ids), 1)

    def test_ambiguous_unit_code_is_refused(self):
        """Custody Scan: a serial on two units in our custody (two products) names both instead of taking one."""
        desktop = self._create_product("Test Desktop", tracking="serial")
        first = self._authorized_rma(["AM-0101"])
        self._deliver(self.customer, desktop, ["AM-0101"])
        second = self._create_rma([(desktop, "AM-0101")])
        second.action_authorize()
        self._scan(first.name, "AM-0101")
        self._scan(second.name, "AM-0101")
        with self.assertRaisesRegex(UserError, "matches several units"):
            self.env["rma.scan"].custody_scan("AM-0101")

    def test_serial_in_stock_is_never_received_again(self):
        rma = self._authorized_rma(["ST-0001"])
        lot = rma.line_ids.lot_id
        self.env["stock.quant"]._update_available_quantity(self.laptop, self.stock_location, 1, lot_id=lot)
        with self.assertRaisesRegex(UserError, "already in our stock"):
            self._scan(rma.name, "ST-0001")
        self.assertEqual(rma.line_ids.state, "authorized")
        # Nor as a substitution on another RMA.
        other = self._authorized_rma(["ST-0002"])
        with self.assertRaisesRegex(UserError, "already in our stock"):
            self._scan(other.name, "ST-0001")
        self.assertEqual(len(other.line_ids), 1)

    def test_serial_open_on_another_rma_is_refused_at_the_scan(self):
        expected_there = self._authorized_rma(["OP-0001"])
        here = self._authorized_rma(["OP-0002"])
        with self.assertRaisesRegex(UserError, f"open on {expected_there.name}"):
            self._scan(here.name, "OP-0001")
        self.assertEqual(len(here.line_ids), 1)
        self.assertEqual(expected_there.line_ids.state, "authorized")

    def test_custody_scan_respects_the_units_status(self):
        shelf = self.env["stock.location"].create(
            {"name": "Bench shelf", "location_id": self.warehouse.view_location_id.id, "barcode": "HD-SHELF"}
        )
        self.stock_location.barcode = self.stock_location.barcode or "HD-STOCK"
        graded = self.warehouse.rma_graded_location_id
        rma = self._authorized_rma(["CS-0001"])
        self._scan(rma.name, "CS-0001")
        line = rma.line_ids
        scan = self.env["rma.scan"]
        for location in (self.stock_location, graded):
            with self.subTest(location=location.name):
                scan.custody_scan("CS-0001")
                with self.assertRaisesRegex(UserError, "only through its disposition"):
                    scan.custody_scan(location.barcode, line_id=line.id)
        self.assertEqual(line.location_id, self.warehouse.rma_quarantine_location_id)
        scan.custody_scan("CS-0001")
        scan.custody_scan(shelf.barcode, line_id=line.id)
        self.assertEqual(line.location_id, shelf)

    def test_scan_arguments_of_the_wrong_type_are_refused(self):
        rma = self._authorized_rma(["TY-0001"])
        scan = self.env["rma.scan"]
        for args, kwargs in (
            ((True,), {}),
            ((["TY-0001"],), {}),
            (({"code": "x"},), {}),
            ((12,), {}),
            ((None,), {}),
            (("\x00",), {}),
            (("TY-0001",), {"rma_id": "abc"}),
            (("TY-0001",), {"rma_id": [rma.id, rma.id]}),
            (("TY-0001",), {"rma_id": True}),
            (("TY-0001",), {"rma_id": rma.id, "station": {"dock": 1}}),
            (("TY-0001",), {"rma_id": rma.id, "station": ["DOCK"]}),
            (("TY-0001",), {"rma_id": rma.id, "station": 7}),
        ):
            for method in (scan.receive_scan, scan.custody_scan):
                with self.subTest(method=method.__name__, args=args, kwargs=kwargs):
                    if method == scan.custody_scan and "rma_id" in kwargs:
                        kwargs = {"line_id": kwargs["rma_id"], **{k: v for k, v in kwargs.items() if k != "rma_id"}}
                    with self.assertRaises(UserError):
                        method(*args, **kwargs)
        self.assertEqual(rma.line_ids.state, "authorized")
        self.assertTrue(self.env["rma.custody.event"]._check_integrity(self.company)["ok"])
