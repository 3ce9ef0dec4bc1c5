import re
from datetime import timedelta

from psycopg2 import IntegrityError

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged
from odoo.tools import mute_logger

from .common import RmaCommon
from .common_rpc import RmaRpcCommon

NUMBER = re.compile(r"^RMA/\d{4}/(\d{5})$")


@tagged("post_install", "-at_install")
class TestRmaAuthorization(RmaCommon):
    def _number(self, rma):
        match = NUMBER.match(rma.name or "")
        self.assertTrue(match, f"{rma.name!r} is not an RMA number")
        return int(match.group(1))

    def test_authorize_issues_number(self):
        self._deliver(self.customer, self.laptop, ["AU-0001"])
        rma = self._create_rma([(self.laptop, "AU-0001")])
        self.assertFalse(rma.name)
        self.assertEqual(rma.display_name, f"Draft RMA #{rma.id}")
        rma.with_user(self.rma_manager).action_authorize()
        self.assertRecordValues(
            rma, [{"state": "authorized", "authorized_by_id": self.rma_manager.id, "display_name": rma.name}]
        )
        self.assertTrue(rma.authorize_date)
        self.assertEqual(rma.line_ids.mapped("state"), ["authorized"])
        with self.assertRaises(UserError):
            rma.with_user(self.rma_manager).action_authorize()

    def test_batch_authorization_numbers_are_consecutive_and_never_reused(self):
        serials = [f"AU-1{index:03d}" for index in range(5)]
        self._deliver(self.customer, self.laptop, serials)
        rmas = self.env["rma.order"].concat(*(self._create_rma([(self.laptop, serial)]) for serial in serials))
        rmas[:3].with_user(self.rma_manager).action_authorize()
        # PostgreSQL sequences ignore rollbacks: earlier tests may have used numbers, so count from the first.
        first = self._number(rmas[0])
        self.assertEqual([self._number(rma) for rma in rmas[:3]], [first, first + 1, first + 2])
        # A number is never given twice, even after the RMA holding it is cancelled.
        rmas[0].action_cancel()
        rmas[0].action_reset_to_draft()
        rmas[3:].with_user(self.rma_manager).action_authorize()
        self.assertEqual([self._number(rma) for rma in rmas[3:]], [first + 3, first + 4])
        self.assertEqual(self._number(rmas[0]), first)

    def test_numbering_per_company(self):
        """Each company numbers its RMAs from 1: two new companies get the same first number."""
        self.reason.company_id = False
        companies = self.env["res.company"].create([{"name": "RMA Second Company"}, {"name": "RMA Third Company"}])
        self.env.user.company_ids = [Command.link(company.id) for company in companies]
        rmas = self.env["rma.order"].create(
            [
                {
                    "company_id": company.id,
                    "partner_id": self.other_customer.id,
                    "reason_id": self.reason.id,
                    "line_ids": [Command.create({"product_id": self.cable.id, "quantity": 1})],
                }
                for company in companies
            ]
        )
        rmas.action_authorize()
        self.assertEqual([self._number(rma) for rma in rmas], [1, 1])
        self.assertEqual(rmas[0].name, rmas[1].name)
        self.assertEqual(rmas.company_id, companies)

    def test_number_unique_per_company(self):
        self._deliver(self.customer, self.laptop, ["AU-3001", "AU-3002"])
        first = self._create_rma([(self.laptop, "AU-3001")])
        second = self._create_rma([(self.laptop, "AU-3002")])
        (first | second).action_authorize()
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.env.cr.savepoint():
            second.name = first.name
            second.flush_recordset()

    def test_flags_block_authorization_until_overridden(self):
        rma = self._create_rma([(self.laptop, "UNKNOWN-1")])
        with self.assertRaisesRegex(UserError, "UNKNOWN-1.*Unknown Serial"):
            rma.with_user(self.rma_manager).action_authorize()
        self.assertRecordValues(rma, [{"state": "draft", "name": False}])

        wizard_form = Form(
            self.env["rma.override.wizard"]
            .with_user(self.rma_manager)
            .with_context(active_model="rma.order", active_ids=rma.ids)
        )
        self.assertEqual(wizard_form.line_ids[:], rma.line_ids)
        wizard_form.reason = "Customer shows the unit was bought from a reseller; serial confirmed by phone."
        wizard_form.save().action_confirm()
        self.assertRecordValues(
            rma.line_ids,
            [{"is_overridden": True, "override_user_id": self.rma_manager.id, "has_flag": True}],
        )
        self.assertFalse(rma.has_flag)
        self.assertIn("reseller", rma.message_ids[0].body)
        self.assertIn("Unknown Serial", rma.message_ids[0].body)

        rma.with_user(self.rma_manager).action_authorize()
        self.assertEqual(rma.state, "authorized")

    def test_override_needs_reason_and_a_flag(self):
        self._deliver(self.customer, self.laptop, ["AU-4001"])
        clean = self._create_rma([(self.laptop, "AU-4001")])
        flagged = self._create_rma([(self.laptop, "UNKNOWN-2")])
        with self.assertRaises(UserError):
            flagged.line_ids._action_override("  ")
        with self.assertRaises(UserError):
            clean.line_ids._action_override("no flag here")
        self.assertFalse(flagged.line_ids.is_overridden)

    def test_flag_raised_after_request_blocks_authorization(self):
        """Checks are run again at authorization: a unit put back in stock meanwhile is caught."""
        self._deliver(self.customer, self.laptop, ["AU-5001"])
        rma = self._create_rma([(self.laptop, "AU-5001")])
        self.assertFalse(rma.has_flag)
        lot = rma.line_ids.lot_id
        self.env["stock.quant"]._update_available_quantity(self.laptop, self.stock_location, 1, lot_id=lot)
        with self.assertRaisesRegex(UserError, "Already in Stock"):
            rma.action_authorize()
        self.assertEqual(rma.state, "draft")
        self.assertTrue(rma.line_ids.is_in_stock)

    def test_reject(self):
        rma = self._create_rma([(self.laptop, "UNKNOWN-3")])
        wizard = Form(
            self.env["rma.reject.wizard"]
            .with_user(self.rma_manager)
            .with_context(active_model="rma.order", active_ids=rma.ids)
        )
        wizard.reason = "Serial not sold by us."
        wizard.save().action_confirm()
        self.assertRecordValues(rma, [{"state": "rejected", "reject_reason": "Serial not sold by us.", "name": False}])
        self.assertEqual(rma.line_ids.state, "rejected")
        with self.assertRaises(UserError):
            rma.with_user(self.rma_manager).action_reject("again")
        rma.action_reset_to_draft()
        with self.assertRaises(UserError):
            rma.with_user(self.rma_manager).action_reject("")
        self.assertEqual(rma.state, "draft")

    def test_proof_of_purchase_required_by_reason(self):
        self._deliver(self.customer, self.laptop, ["AU-6001"])
        rma = self._create_rma([(self.laptop, "AU-6001")], reason_id=self.reason_with_proof.id)
        with self.assertRaisesRegex(UserError, "proof of purchase"):
            rma.action_authorize()
        self.assertRecordValues(rma, [{"state": "draft", "name": False}])
        proof = self.env["ir.attachment"].create({"name": "invoice.pdf", "raw": b"%PDF-1.4 proof"})
        rma.proof_attachment_ids = [Command.link(proof.id)]
        rma.action_authorize()
        self.assertEqual(rma.state, "authorized")

    def test_no_units_no_authorization(self):
        rma = self.env["rma.order"].create({"partner_id": self.customer.id, "reason_id": self.reason.id})
        with self.assertRaisesRegex(UserError, "Add the returned units"):
            rma.action_authorize()

    def test_reason_is_required(self):
        with self.assertRaisesRegex(ValidationError, "reason"):
            self.env["rma.order"].create({"partner_id": self.customer.id})
        self.assertFalse(self.env["rma.order"].search([("partner_id", "=", self.customer.id)]))

    def test_reason_is_fixed_once_decided(self):
        """The restocking fee and the inspection follow the reason the RMA was authorized on."""
        other = self.env["rma.reason"].create({"name": "Test damaged", "code": "TDMG", "is_proof_required": False})
        self._deliver(self.customer, self.laptop, ["AU-8001"])
        rma = self._create_rma([(self.laptop, "AU-8001")], user=self.rma_user)
        rma.with_user(self.rma_user).reason_id = other  # a request is still the requester's to correct
        rma.with_user(self.rma_manager).action_authorize()
        for user in (self.rma_user, self.rma_manager):
            with self.subTest(user=user.login), self.assertRaisesRegex(UserError, "Return Reason cannot change"):
                rma.with_user(user).write({"reason_id": self.reason.id})
        self.assertEqual(rma.reason_id, other)

    def test_cancel_reset_and_unlink(self):
        self._deliver(self.customer, self.laptop, ["AU-7001"])
        rma = self._create_rma([(self.laptop, "AU-7001")])
        rma.action_authorize()
        with self.assertRaises(UserError):
            rma.unlink()
        with self.assertRaises(UserError):
            rma.line_ids.unlink()
        rma.action_cancel()
        self.assertRecordValues(rma, [{"state": "cancel"}])
        with self.assertRaises(UserError):
            rma.action_cancel()
        rma.action_reset_to_draft()
        self.assertEqual(rma.state, "draft")
        draft = self._create_rma([(self.laptop, "AU-7002")])
        draft.unlink()
        self.assertFalse(draft.exists())

    def test_onchange_fills_customer_from_delivery(self):
        picking = self._deliver(self.customer, self.laptop, ["AU-8001"])
        form = Form(self.env["rma.order"])
        form.picking_id = picking
        form.reason_id = self.reason
        with form.line_ids.new() as line:
            line.product_id = self.laptop
            line.serial_number = "AU-8001"
        rma = form.save()
        self.assertEqual(rma.partner_id, self.customer)
        self.assertFalse(rma.has_flag)

    def test_label(self):
        self._deliver(self.customer, self.laptop, ["AU-9001"])
        rma = self._create_rma([(self.laptop, "AU-9001")])
        report = self.env.ref("rma_recovery.action_report_rma_label")
        with self.assertRaisesRegex(UserError, "no RMA number"):
            report._render_qweb_html(report.report_name, rma.ids)
        rma.action_authorize()
        html = report._render_qweb_html(report.report_name, rma.ids)[0].decode()
        self.assertIn(rma.name, html)
        self.assertIn("AU-9001", html)
        self.assertIn(f'alt="Barcode {rma.name}"', html)
        self.assertIn('alt="Barcode AU-9001"', html)
        self.assertIn(self.warehouse.partner_id.name or self.company.name, html)
        pdf, report_type = report.with_context(force_report_rendering=True)._render_qweb_pdf(
            report.report_name, rma.ids
        )
        self.assertEqual(report_type, "pdf")
        self.assertTrue(pdf.startswith(b"%PDF"))

    def test_request_date_defaults_now(self):
        rma = self._create_rma([(self.cable, False, 1)])
        self.assertLessEqual(rma.request_date, fields.Datetime.now())

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
        self.assertAlmostEqual(rma.request_date, fields.Datetime.now(), delta=timedelta(minutes=5))

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


@tagged("post_install", "-at_install")
class TestRmaAuthorizationRights(RmaCommon):
    """Who requests, who decides, and what each company sees."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._deliver(cls.customer, cls.laptop, ["SEC-0001"])
        cls.other_company = cls.env["res.company"].create({"name": "RMA Foreign Company"})
        cls.env.user.company_ids = [Command.link(cls.other_company.id)]
        cls.foreign_reason = cls.env["rma.reason"].create(
            {"name": "Foreign only", "code": "FRGN", "company_id": cls.other_company.id, "is_proof_required": False}
        )
        cls.foreign_rma = (
            cls.env["rma.order"]
            .with_company(cls.other_company)
            .create(
                {
                    "company_id": cls.other_company.id,
                    "partner_id": cls.other_customer.id,
                    "reason_id": cls.foreign_reason.id,
                }
            )
        )

    def test_user_requests_but_cannot_decide(self):
        rma = self._create_rma([(self.laptop, "SEC-0001")], user=self.rma_user)
        self.assertEqual(rma.create_uid, self.rma_user)
        for user in (self.rma_user, self.rma_inspector):
            with self.subTest(user=user.login):
                with self.assertRaises(AccessError):
                    rma.with_user(user).action_authorize()
                with self.assertRaises(AccessError):
                    rma.with_user(user).action_reject("no")
                with self.assertRaises(AccessError):
                    self.env["rma.reject.wizard"].with_user(user).create({"rma_ids": rma.ids, "reason": "no"})
        self.assertRecordValues(rma, [{"state": "draft", "name": False}])

    def test_user_cannot_override(self):
        rma = self._create_rma([(self.laptop, "SEC-UNKNOWN")], user=self.rma_user)
        with self.assertRaises(AccessError):
            rma.line_ids.with_user(self.rma_user)._action_override("I say so")
        with self.assertRaises(AccessError):
            self.env["rma.override.wizard"].with_user(self.rma_user).create({"rma_ids": rma.ids, "reason": "x"})
        self.assertFalse(rma.line_ids.is_overridden)

    def test_workflow_fields_only_change_through_actions(self):
        """A plain write cannot authorize, override or receive, even for a manager: only the actions can."""
        rma = self._create_rma([(self.laptop, "SEC-UNKNOWN-2")], user=self.rma_user)
        rma.with_user(self.rma_user).customer_reference = "PO-42"
        self.assertEqual(rma.customer_reference, "PO-42", "the request itself stays editable")
        line = rma.line_ids
        for user in (self.rma_user, self.rma_manager):
            with self.subTest(user=user.login):
                for record, values in (
                    (rma, {"state": "authorized"}),
                    (rma, {"name": "RMA/FAKE/00001"}),
                    (line, {"override_reason": "self-approved"}),
                    (line, {"state": "received"}),
                    (line, {"is_substitution": True}),
                ):
                    with self.assertRaises(AccessError):
                        record.with_user(user).write(values)
                with self.assertRaises(AccessError):
                    self.env["rma.line"].with_user(user).create(
                        {"rma_id": rma.id, "product_id": self.cable.id, "override_reason": "self-approved"}
                    )
        self.assertRecordValues(rma, [{"state": "draft", "name": False, "has_flag": True}])
        self.assertFalse(line.is_overridden)

    def test_user_cannot_delete_or_configure(self):
        rma = self._create_rma([(self.laptop, "SEC-0001")], user=self.rma_user)
        with self.assertRaises(AccessError):
            rma.with_user(self.rma_user).unlink()
        with self.assertRaises(AccessError):
            self.env["rma.reason"].with_user(self.rma_user).create({"name": "Mine", "code": "MINE"})
        self.env["rma.reason"].with_user(self.rma_manager).create({"name": "Managed", "code": "MGD"})

    def test_stock_user_without_returns_group_has_no_access(self):
        stock_user = self._new_user("plain_stock_user", "stock.group_stock_user")
        with self.assertRaises(AccessError):
            self.env["rma.order"].with_user(stock_user).search([])

    def test_multi_company_isolation(self):
        rma = self._create_rma([(self.laptop, "SEC-0001")])
        as_user = self.env["rma.order"].with_user(self.rma_manager)
        self.assertEqual(as_user.search([("id", "in", (rma | self.foreign_rma).ids)]), rma)
        with self.assertRaises(AccessError):
            self.foreign_rma.with_user(self.rma_manager).read(["partner_id"])
        reasons = self.env["rma.reason"].with_user(self.rma_manager).search([])
        self.assertIn(self.reason, reasons)
        self.assertIn(self.env.ref("rma_recovery.rma_reason_doa"), reasons, "shared reasons are visible everywhere")
        self.assertNotIn(self.foreign_reason, reasons)
        foreign_lines = (
            self.env["rma.line"].with_user(self.rma_manager).search([("company_id", "=", self.other_company.id)])
        )
        self.assertFalse(foreign_lines)

    def test_reason_of_another_company_is_refused(self):
        from odoo.exceptions import UserError

        with self.assertRaises(UserError):
            self._create_rma([(self.laptop, "SEC-0001")], reason_id=self.foreign_reason.id)


@tagged("post_install", "-at_install")
class TestRmaAuthorizationRpc(RmaRpcCommon):
    """A Returns User requests over JSON-RPC and decides nothing, whatever the call or the context it forges."""

    def test_returns_user_cannot_forge_a_decision(self):
        self._deliver(self.customer, self.laptop, ["RPC-0001", "RPC-0002"])
        rma = self._create_rma([(self.laptop, "RPC-0001")], user=self.rma_user)
        line = rma.line_ids
        other_lot = self.env["stock.lot"].search([("name", "=", "RPC-0002")])
        user = self.rma_user
        calls = [
            ("rma.order", "action_authorize", [rma.ids]),
            ("rma.order", "write", [rma.ids, {"state": "authorized", "name": "RMA/FORGED/1"}]),
            ("rma.order", "write", [rma.ids, {"authorized_by_id": user.id}]),
            ("rma.order", "write", [rma.ids, {"request_date": "2020-01-01 00:00:00"}]),
            ("rma.order", "action_reject", [rma.ids, "no"]),
            ("rma.order", "action_cancel", [rma.ids]),
            ("rma.reject.wizard", "create", [{"rma_ids": [Command.set(rma.ids)], "reason": "no"}]),
            ("rma.override.wizard", "create", [{"rma_ids": [Command.set(rma.ids)], "reason": "mine"}]),
            ("rma.line", "_action_override", [line.ids, "mine"]),
            ("rma.line", "write", [line.ids, {"override_reason": "self-approved"}]),
            ("rma.line", "write", [line.ids, {"is_overridden": True}]),
            ("rma.line", "write", [line.ids, {"state": "received", "received_date": "2026-01-01 00:00:00"}]),
            ("rma.line", "write", [line.ids, {"book_value": 1.0, "carrying_value": 1.0}]),
            ("rma.line", "write", [line.ids, {"lot_id": other_lot.id}]),
            ("rma.line", "write", [line.ids, {"delivery_move_id": False}]),
            ("rma.line", "write", [line.ids, {"partner_id": self.other_customer.id}]),
            (
                "rma.line",
                "create",
                [{"rma_id": rma.id, "product_id": self.laptop.id, "serial_number": "RPC-0009", "custody_sequence": 4}],
            ),
            (
                "rma.line",
                "create",
                [{"rma_id": rma.id, "product_id": self.laptop.id, "serial_number": "RPC-0009", "is_overridden": True}],
            ),
            (
                "rma.line",
                "create",
                [{"rma_id": rma.id, "product_id": self.laptop.id, "serial_number": "RPC-0009", "lot_id": other_lot.id}],
            ),
        ]
        for model, method, args in calls:
            with self.subTest(model=model, method=method, args=args[1:]):
                self.assertRefused(self._call(user, model, method, *args))
        self.assertRecordValues(rma, [{"state": "draft", "name": False, "authorized_by_id": False}])
        self.assertRecordValues(
            line, [{"state": "draft", "is_overridden": False, "override_reason": False, "book_value": 0.0}]
        )
        self.assertEqual(len(rma.line_ids), 1)
        # What the request itself holds stays the requester's to edit.
        self.assertNotIn("error", self._call(user, "rma.order", "write", rma.ids, {"customer_reference": "PO-7"}))
        self.assertEqual(rma.customer_reference, "PO-7")
