import ast

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from odoo.addons.mail.tests.common import MockEmail

from .common import RmaCommon
from .common_rpc import RmaRpcCommon

# A customer's mail: a text part and, when ``attachment`` is set, a PDF proof of purchase.
MAIL = """Return-Path: {return_path}
To: {to}
cc: {cc}
From: {email_from}
Subject: {subject}
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="----=_Part_RMA_42"
Date: {date}
Message-ID: {msg_id}
{extra}
------=_Part_RMA_42
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

{body}

------=_Part_RMA_42
Content-Type: application/pdf; name="{attachment}"
Content-Disposition: attachment; filename="{attachment}"
Content-Transfer-Encoding: base64

JVBERi0xLjQKJcfsj6IKMSAwIG9iago8PC9UeXBlIC9DYXRhbG9nPj4KZW5kb2JqCnRyYWlsZXIKPDwvUm9vdCAxIDAgUj4+CiUlRU9GCg==
------=_Part_RMA_42--
"""


# The same mail with a file that is no PDF, JPEG, PNG or HEIC (a program, whatever its name says).
MAIL_NOT_A_PROOF = MAIL.replace(
    "JVBERi0xLjQKJcfsj6IKMSAwIG9iago8PC9UeXBlIC9DYXRhbG9nPj4KZW5kb2JqCnRyYWlsZXIKPDwvUm9vdCAxIDAgUj4+CiUlRU9GCg==",
    "TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAA=",
)


@tagged("post_install", "-at_install")
class TestRmaMailIntake(RmaCommon, MockEmail):
    """A mail to a warehouse's Returns alias: a draft RMA for the sender's customer, with the units named in the text
    and the attachments as proof; replies thread onto it; Odoo's gateway protects it from loops."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.alias_domain = cls.env["mail.alias.domain"].create(
            {"name": "rma-test.example.com", "bounce_alias": "bounce", "catchall_alias": "catchall"}
        )
        cls.company.alias_domain_id = cls.alias_domain
        cls.warehouse.write({"alias_name": "returns", "alias_domain_id": cls.alias_domain.id})
        cls.alias_email = "returns@rma-test.example.com"
        cls.customer_contact.email = "buyer@customer-one.example.com"
        cls.other_customer.email = "boss@customer-two.example.com"
        cls.serials = ["ML-0001", "ML-0002"]
        cls._deliver(cls.customer, cls.laptop, cls.serials)
        cls.imei = cls._imei(1)
        cls._deliver(cls.customer, cls.phone, [cls.imei])

    def _mail(self, email_from, subject, body, attachment="proof.pdf", extra="", msg_id=False, to=None, template=MAIL):
        self.format_and_process(
            template,
            email_from,
            to or self.alias_email,
            subject=subject,
            body=body,
            attachment=attachment,
            extra=extra,
            msg_id=msg_id,
            target_model="rma.order",
            target_field="customer_reference",
        )
        return self.env["rma.order"].search([("description", "ilike", subject)])

    def test_alias_of_the_warehouse(self):
        alias = self.warehouse.alias_id
        self.assertRecordValues(
            alias,
            [{"alias_model_id": self.env["ir.model"]._get_id("rma.order"), "alias_full_name": self.alias_email}],
        )
        self.assertEqual(
            ast.literal_eval(alias.alias_defaults),
            {"company_id": self.company.id, "warehouse_id": self.warehouse.id},
        )

    def test_mail_creates_a_draft_rma_with_units_and_proof(self):
        body = (
            f"Hello, two laptops ({self.serials[0]} and {self.serials[1]}) do not boot, and the phone with IMEI"
            f" {self.imei} has a cracked screen. Our PO is 4711. Also a typo: ML-9999."
        )
        with self.mock_mail_gateway():
            rma = self._mail('"Customer One Buyer" <buyer@customer-one.example.com>', "Broken laptops", body)
        self.assertEqual(len(rma), 1)
        self.assertRecordValues(
            rma,
            [
                {
                    "state": "draft",
                    "partner_id": self.customer_contact.id,
                    "company_id": self.company.id,
                    "warehouse_id": self.warehouse.id,
                    "is_unknown_sender": False,
                    "user_id": False,
                }
            ],
        )
        self.assertIn("Broken laptops", rma.description)
        self.assertIn("cracked screen", rma.description)
        self.assertEqual(
            [(line.product_id, line.serial_number) for line in rma.line_ids],
            [(self.laptop, "ML-0001"), (self.laptop, "ML-0002"), (self.phone, self.imei)],
        )
        self.assertFalse(rma.line_ids.filtered("has_flag"), "delivered to this customer: the checks pass")
        self.assertEqual(rma.proof_attachment_ids.mapped("name"), ["proof.pdf"])
        self.assertEqual(rma.proof_attachment_ids.res_id, rma.id)
        email = rma.message_ids.filtered(lambda message: message.message_type == "email")
        self.assertEqual(email.author_id, self.customer_contact)
        # For the Returns team, as a portal request: an activity to review it, for a Returns user.
        self.assertEqual(rma.activity_ids.summary, "Review the return request")
        self.assertTrue(rma.activity_ids.user_id.has_group("rma_recovery.group_rma_user"))

    def test_attachment_that_is_no_proof_file_stays_in_the_chatter_only(self):
        with self.mock_mail_gateway():
            rma = self._mail(
                "buyer@customer-one.example.com",
                "Invoice attached",
                self.serials[0],
                attachment="invoice.pdf",
                template=MAIL_NOT_A_PROOF,
            )
        self.assertFalse(rma.proof_attachment_ids, "not a PDF, whatever its name says")
        email = rma.message_ids.filtered(lambda message: message.message_type == "email")
        self.assertEqual(email.attachment_ids.mapped("name"), ["invoice.pdf"], "kept with the mail")
        note = rma.message_ids.filtered(lambda message: "Not taken as proof" in (message.body or ""))
        self.assertIn("invoice.pdf", note.body)
        self.assertEqual(note.subtype_id, self.env.ref("mail.mt_note"), "for the Returns team, not the customer")

    def test_unknown_sender_flagged_and_proposes_nothing(self):
        with self.mock_mail_gateway():
            rma = self._mail("Stranger <stranger@nowhere.example.com>", "Please take back", f"Unit {self.serials[0]}")
        self.assertTrue(rma.is_unknown_sender)
        self.assertEqual(rma.partner_id.email, "stranger@nowhere.example.com")
        self.assertFalse(rma.line_ids, "nothing matched for a sender who is no known customer")
        self.assertEqual(rma.proof_attachment_ids.mapped("name"), ["proof.pdf"], "the sender's own mail")
        # A second mail from the same address: still unknown until staff choose the customer.
        with self.mock_mail_gateway():
            again = self._mail("stranger@nowhere.example.com", "Still waiting", "Hello?")
        self.assertTrue(again.is_unknown_sender)
        self.assertEqual(again.partner_id, rma.partner_id)
        # Not authorized while nobody checked who the customer is.
        again.line_ids = [Command.create({"product_id": self.laptop.id, "serial_number": self.serials[0]})]
        again.proof_attachment_ids = rma.proof_attachment_ids
        with self.assertRaisesRegex(UserError, "from an address no contact had"):
            again.with_user(self.rma_manager).action_authorize()
        self.assertEqual(again.state, "draft")
        again.with_user(self.rma_user).partner_id = self.customer
        self.assertFalse(again.is_unknown_sender)

    def test_reply_threads_onto_the_rma(self):
        msg_id = "<first-request-4711@customer-one.example.com>"
        with self.mock_mail_gateway():
            rma = self._mail("buyer@customer-one.example.com", "One laptop", f"{self.serials[0]}", msg_id=msg_id)
        self.assertEqual(rma.line_ids.mapped("serial_number"), ["ML-0001"])
        rma_count = self.env["rma.order"].search_count([])
        with self.mock_mail_gateway():
            self._mail(
                "buyer@customer-one.example.com",
                "Re: One laptop, and another",
                f"Sorry, also {self.serials[1]} (and again {self.serials[0]}).",
                attachment="receipt.pdf",
                extra=f"In-Reply-To: {msg_id}\nReferences: {msg_id}",
            )
        self.assertEqual(self.env["rma.order"].search_count([]), rma_count, "no new RMA")
        self.assertEqual(rma.line_ids.mapped("serial_number"), ["ML-0001", "ML-0002"])
        self.assertEqual(sorted(rma.proof_attachment_ids.mapped("name")), ["proof.pdf", "receipt.pdf"])
        self.assertEqual(len(rma.message_ids.filtered(lambda message: message.message_type == "email")), 2)

    def test_reply_of_another_customer_changes_nothing(self):
        """Customer Two's mail referencing Customer One's request: threaded onto it as an internal note for the
        Returns team; nobody outside is notified (not Customer One's buyer, whose mail it answers), Customer Two is
        not made a follower, and adds neither units nor proof."""
        msg_id = "<first-request-4712@customer-one.example.com>"
        with self.mock_mail_gateway():
            rma = self._mail("buyer@customer-one.example.com", "Laptop back", f"{self.serials[0]}", msg_id=msg_id)
        self._deliver(self.other_customer, self.laptop, ["ML-B-0001"])
        with self.mock_mail_gateway():
            self._mail(
                "boss@customer-two.example.com",
                "Re: Laptop back, add mine",
                f"Add ML-B-0001 and {self.serials[1]}",
                attachment="fake.pdf",
                extra=f"In-Reply-To: {msg_id}\nReferences: {msg_id}",
            )
        self.assertEqual(rma.line_ids.mapped("serial_number"), ["ML-0001"])
        self.assertEqual(rma.proof_attachment_ids.mapped("name"), ["proof.pdf"])
        self.assertNotIn(self.other_customer, rma.message_partner_ids)
        reply = rma.message_ids.filtered(lambda message: message.author_id == self.other_customer)
        self.assertEqual(len(reply), 1, "logged in the chatter for staff to see")
        self.assertEqual(reply.subtype_id, self.env.ref("mail.mt_note"), "internal: not in Customer One's portal")
        self.assertFalse(self._new_mails.filtered(lambda mail: mail.mail_message_id == reply), "nobody notified")
        self.assertEqual(self.env["rma.order"].search_count([("partner_id", "=", self.other_customer.id)]), 0)

    def test_loop_protection_of_the_gateway(self):
        self.env["ir.config_parameter"].sudo().set_param("mail.gateway.loop.threshold", 2)
        with self.mock_mail_gateway():
            for index in range(3):
                self._mail("autoreply@customer-one.example.com", f"Out of office {index}", "I am away.")
        created = self.env["rma.order"].search([("description", "ilike", "Out of office")])
        self.assertEqual(len(created), 2, "the third mail of the same sender within the period is dropped")

    def test_message_new_is_the_gateway_s_only(self):
        with self.assertRaises(AccessError):
            self.env["rma.order"].with_user(self.rma_user).message_new({"subject": "x", "email_from": "a@b.example"})


@tagged("post_install", "-at_install")
class TestRmaMailRpc(RmaRpcCommon):
    """The gateway's entry points are public methods of Odoo's API: over JSON-RPC, no user may forge a mail."""

    def test_gateway_methods_are_refused_over_rpc(self):
        rma = self._create_rma([(self.laptop, "RPC-0001")])
        forged = {"subject": "Add mine", "email_from": "buyer@customer-one.example.com", "body": "RPC-0002"}
        for user in (self.rma_user, self.rma_manager):
            self.assertRefused(self._call(user, "rma.order", "message_new", forged))
            self.assertRefused(self._call(user, "rma.order", "message_update", [rma.id], forged))
        self.assertEqual(rma.line_ids.mapped("serial_number"), ["RPC-0001"])
        self.assertEqual(self.env["rma.order"].search_count([("description", "ilike", "Add mine")]), 0)
