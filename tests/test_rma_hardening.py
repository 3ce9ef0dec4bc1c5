from dateutil.relativedelta import relativedelta
from psycopg2 import IntegrityError

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged
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
            with self.subTest(imei=typed), self.assertRaisesRegex(ValidationError, "not an IMEI"):
                self._create_rma([(self.phone, typed)])

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
