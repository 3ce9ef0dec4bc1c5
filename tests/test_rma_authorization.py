import re

from psycopg2 import IntegrityError

from odoo import Command, fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, tagged
from odoo.tools import mute_logger

from .common import RmaCommon

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
