import json
import re
from unittest.mock import patch

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import HttpCase, mute_logger, tagged

from odoo.addons.rma_recovery.models.rma_proof_file import proof_mimetype
from odoo.addons.rma_recovery.models.rma_workflow_guard import server_write

from .common import RmaCommon
from .common_rpc import RmaRpcMixin

PDF = b"%PDF-1.4\n% proof of purchase\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
HEIC = b"\x00\x00\x00\x18ftypheic" + b"\x00" * 16


class RmaPortalCommon(RmaRpcMixin, RmaCommon, HttpCase):
    """Two customers, each with a portal user on a contact of theirs, and an RMA each (customer A's authorized)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.contact_a = cls.customer_contact
        cls.contact_b = cls.env["res.partner"].create(
            {"name": "Customer Two, Buyer", "parent_id": cls.other_customer.id}
        )
        cls.portal_a = cls._new_user("portal_a", "base.group_portal", partner_id=cls.contact_a.id)
        cls.portal_b = cls._new_user("portal_b", "base.group_portal", partner_id=cls.contact_b.id)

    def setUp(self):
        super().setUp()
        self._deliver(self.customer, self.laptop, ["PORTAL-A-1", "PORTAL-A-2"])
        self._deliver(self.other_customer, self.laptop, ["PORTAL-B-1"])
        self.rma_a = self._create_rma([(self.laptop, "PORTAL-A-1"), (self.laptop, "PORTAL-A-2")])
        self.rma_a.action_authorize()
        self.rma_b = self._create_rma([(self.laptop, "PORTAL-B-1")], partner=self.other_customer)
        self.proof_b = self.env["ir.attachment"].create(
            {"name": "invoice-b.pdf", "raw": b"%PDF-1.4 B", "res_model": "rma.order", "res_id": self.rma_b.id}
        )
        server_write(self.rma_b, {"proof_attachment_ids": [Command.link(self.proof_b.id)]})
        self.chatter_b = self.env["ir.attachment"].create(
            {"name": "photo-b.png", "raw": b"\x89PNG B", "res_model": "rma.order", "res_id": self.rma_b.id}
        )
        self.rma_b.message_post(body="B's photo", attachment_ids=self.chatter_b.ids)

    def _get(self, url):
        response = self.url_open(url, allow_redirects=False)
        self.env.invalidate_all()
        return response

    def _counters(self, *names):
        payload = {"jsonrpc": "2.0", "method": "call", "id": 1, "params": {"counters": list(names)}}
        response = self.url_open("/my/counters", data=json.dumps(payload), headers={"Content-Type": "application/json"})
        return response.json()["result"]


@tagged("post_install", "-at_install")
class TestRmaPortal(RmaPortalCommon):
    def test_list_counter_and_filters(self):
        self.authenticate("portal_a", "portal_a")
        self.assertEqual(self._counters("rma_count")["rma_count"], 1)
        page = self._get("/my/returns")
        self.assertEqual(page.status_code, 200)
        self.assertIn(self.rma_a.name, page.text)
        self.assertNotIn("PORTAL-B", page.text)
        self.assertIn("Authorized", page.text)
        requested = self._get("/my/returns?filterby=requested&sortby=name")
        self.assertEqual(requested.status_code, 200)
        self.assertNotIn(self.rma_a.name, requested.text)
        self.assertIn("no returns", requested.text)
        # Unknown sort or filter keys fall back to the defaults, as Odoo's portal lists do.
        self.assertEqual(self._get("/my/returns?filterby=x&sortby=y").status_code, 200)

        self.authenticate("portal_b", "portal_b")
        self.assertEqual(self._counters("rma_count")["rma_count"], 1)
        self.assertNotIn(self.rma_a.name, self._get("/my/returns").text)

    def test_page_units_milestones_and_nothing_internal(self):
        line = self.rma_a.line_ids[0]
        server_write(line, {"override_reason": "INTERNAL-OVERRIDE-NOTE", "disposition_note": "INTERNAL-NOTE"})
        self.authenticate("portal_a", "portal_a")
        page = self._get(f"/my/returns/{self.rma_a.id}")
        self.assertEqual(page.status_code, 200)
        for text in ("PORTAL-A-1", "PORTAL-A-2", "Requested", "Authorized", "Received", "Inspected", "Remedy done"):
            self.assertIn(text, page.text)
        self.assertIn(f"/my/returns/{self.rma_a.id}/label", page.text)
        self.assertIn('id="discussion"', page.text)
        self.assertNotIn("INTERNAL-", page.text)
        # Over JSON-RPC too: the unit as declared and its dates, nothing the staff recorded.
        self.assertEqual(
            self._call(self.portal_a, "rma.line", "read", line.ids, ["serial_number", "state"])["result"][0][
                "serial_number"
            ],
            "PORTAL-A-1",
        )
        for field in ("override_reason", "disposition_note", "book_value", "location_id", "custody_hash"):
            self.assertRefused(self._call(self.portal_a, "rma.line", "read", line.ids, [field]))
        self.assertRefused(self._call(self.portal_a, "rma.order", "read", self.rma_a.ids, ["has_flag"]))
        self.assertRefused(self._call(self.portal_a, "rma.order", "write", self.rma_a.ids, {"customer_reference": "x"}))

    def test_other_customer_gets_nothing(self):
        self.authenticate("portal_a", "portal_a")
        guesses = ("", "?access_token=", "?access_token=guessed-token", f"?access_token={self.rma_a.access_token}")
        for suffix in guesses:
            for url in (f"/my/returns/{self.rma_b.id}", f"/my/returns/{self.rma_b.id}/label"):
                response = self._get(url + suffix)
                self.assertIn(response.status_code, (403, 404), url + suffix)
                self.assertNotIn("PORTAL-B", response.text)
        for attachment in self.proof_b | self.chatter_b:
            for suffix in ("", "?access_token=guessed-token", "?download=true"):
                response = self._get(f"/web/content/{attachment.id}{suffix}")
                self.assertIn(response.status_code, (403, 404), suffix)
                self.assertNotIn(" B", response.text)
        # The units and the RMA over JSON-RPC: another customer's are not there.
        self.assertRefused(self._call(self.portal_a, "rma.line", "read", self.rma_b.line_ids.ids, ["serial_number"]))
        self.assertRefused(self._call(self.portal_a, "rma.order", "read", self.rma_b.ids, ["name"]))
        found = self._call(self.portal_a, "rma.line", "search_read", [], ["serial_number"])["result"]
        self.assertEqual(sorted(unit["serial_number"] for unit in found), ["PORTAL-A-1", "PORTAL-A-2"])
        # Not even through the chatter's fetch.
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": 1,
            "params": {"thread_model": "rma.order", "thread_id": self.rma_b.id, "fetch_params": {}},
        }
        response = self.url_open(
            "/mail/thread/messages", data=json.dumps(payload), headers={"Content-Type": "application/json"}
        )
        self.assertNotIn("B&#39;s photo", response.text)
        self.assertNotIn("B's photo", response.text)

    def test_unit_status_in_the_customer_words(self):
        first, second = self.rma_a.line_ids.sorted("serial_number")
        server_write(first, {"state": "ready"})  # refurbished, back in graded stock: the staff's business
        self.assertEqual(self.rma_a.line_ids._portal_statuses(), {first: "Inspected", second: "Authorized"})
        self.authenticate("portal_a", "portal_a")
        page = self._get(f"/my/returns/{self.rma_a.id}")
        self.assertIn("Inspected", page.text)
        self.assertNotIn("Ready for Restock", page.text)
        self.assertNotIn("Remarketing", page.text)

    def test_requests_only_through_the_portal_form(self):
        """A portal user creates nothing over JSON-RPC (the form's checks are the way in), and a visitor without an
        account is sent to the login page."""
        answer = self._call(
            self.portal_a,
            "rma.order",
            "create",
            [{"partner_id": self.contact_a.id, "reason_id": self.reason.id}],
        )
        self.assertRefused(answer)
        self.assertRefused(self._call(self.portal_a, "rma.line", "write", self.rma_a.line_ids.ids, {"quantity": 5}))
        self.authenticate(None, None)
        response = self._get("/my/returns/new")
        self.assertEqual(response.status_code, 303)
        self.assertIn("/web/login", response.headers["Location"])

    def test_internal_reports_refused(self):
        """The customer reads their units through the portal page only: the staff's documents on them (the chain of
        custody) are not printed for a portal user, even for their own units."""
        self.authenticate("portal_a", "portal_a")
        for converter in ("html", "pdf"):
            url = f"/report/{converter}/rma_recovery.report_unit_custody/{self.rma_a.line_ids[0].id}"
            response = self._get(url)
            self.assertNotEqual(response.status_code, 200, url)
            self.assertNotIn("Chain of Custody", response.text)

    def test_chatter_with_attachments(self):
        """The customer writes in the RMA's chatter and attaches files through Odoo's composer (with the RMA's
        token); on another customer's RMA, with their own token or a guess, the upload is refused."""
        self.authenticate("portal_a", "portal_a")
        page = self._get(f"/my/returns/{self.rma_a.id}")
        csrf = re.search(r'csrf_token: "([^"]+)"', page.text).group(1)
        token_a = self.rma_a.access_token
        self.assertIn(f'data-token="{token_a}"', page.text)

        def upload(rma, token):
            return self.url_open(
                "/mail/attachment/upload",
                data={"csrf_token": csrf, "thread_model": "rma.order", "thread_id": str(rma.id), "token": token},
                files={"ufile": ("note.pdf", PDF, "application/pdf")},
            )

        response = upload(self.rma_a, token_a)
        self.assertEqual(response.status_code, 200)
        attachment = self.env["ir.attachment"].browse(response.json()["data"]["attachment_id"])
        self.assertRecordValues(attachment, [{"res_model": "rma.order", "res_id": self.rma_a.id}])
        for token in (token_a, "guessed-token", ""):
            self.assertEqual(upload(self.rma_b, token).status_code, 404)
        self.assertFalse(self.env["ir.attachment"].search([("res_id", "=", self.rma_b.id), ("name", "=", "note.pdf")]))

    def test_token_opens_the_page_to_a_visitor(self):
        token = self.rma_a._portal_ensure_token()
        page = self._get(f"/my/returns/{self.rma_a.id}?access_token={token}")
        self.assertEqual(page.status_code, 200)
        self.assertIn("PORTAL-A-1", page.text)
        for suffix in ("", "?access_token=guessed-token"):
            response = self._get(f"/my/returns/{self.rma_a.id}{suffix}")
            self.assertIn(response.status_code, (303, 403, 404))
            self.assertNotIn("PORTAL-A-1", response.text)
        label = self._get(f"/my/returns/{self.rma_a.id}/label?access_token={token}")
        self.assertEqual(label.status_code, 200)
        self.assertIn(self.rma_a.name, label.text)

    def test_label_once_authorized(self):
        self.authenticate("portal_b", "portal_b")
        self.assertEqual(self._get(f"/my/returns/{self.rma_b.id}/label").status_code, 404)
        page = self._get(f"/my/returns/{self.rma_b.id}")
        self.assertNotIn(f"/my/returns/{self.rma_b.id}/label", page.text)
        self.assertIn("invoice-b.pdf", page.text)
        self.rma_b.action_authorize()
        label = self._get(f"/my/returns/{self.rma_b.id}/label")
        self.assertEqual(label.status_code, 200)
        self.assertEqual(label.headers["Content-Type"], "application/pdf")
        # Test mode renders the report's HTML (no wkhtmltopdf run over HTTP): the label of this RMA.
        self.assertIn(self.rma_b.name, label.text)
        self.assertIn("PORTAL-B-1", label.text)


@tagged("post_install", "-at_install")
class TestRmaPortalRequest(RmaPortalCommon):
    """Request a return from the portal: from delivered orders and typed, with proof and photos, checked as in the
    back office, within the limits."""

    def setUp(self):
        super().setUp()
        SaleOrder = self.env["sale.order"]
        self.order_1 = SaleOrder.create(
            {
                "partner_id": self.customer.id,
                "client_order_ref": "PO-ONE",
                "order_line": [
                    Command.create({"product_id": self.laptop.id, "product_uom_qty": 2}),
                    Command.create({"product_id": self.cable.id, "product_uom_qty": 5}),
                ],
            }
        )
        self.order_2 = SaleOrder.create(
            {"partner_id": self.customer.id, "order_line": [Command.create({"product_id": self.phone.id})]}
        )
        self.order_b = SaleOrder.create(
            {"partner_id": self.other_customer.id, "order_line": [Command.create({"product_id": self.laptop.id})]}
        )
        self.imei = self._imei(1)
        self._deliver(self.customer, self.laptop, ["REQ-SN-1", "REQ-SN-2"], sale_order=self.order_1)
        self._deliver(self.customer, self.cable, quantity=5, sale_order=self.order_1)
        self._deliver(self.customer, self.phone, [self.imei], sale_order=self.order_2)
        self._deliver(self.other_customer, self.laptop, ["REQ-B-SN"], sale_order=self.order_b)
        self.keys = {
            unit["serial"] or unit["product"].name: key
            for key, unit in self.env["rma.order"]._portal_returnable_units(self.contact_a).items()
        }

    def _post_request(self, data, files=()):
        form = self._get("/my/returns/new")
        self.assertEqual(form.status_code, 200)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
        response = self.url_open(
            "/my/returns/new", data={"csrf_token": csrf, **data}, files=list(files), allow_redirects=False
        )
        self.env.invalidate_all()
        return response

    def _alert(self, response):
        """The form's error message, if the request was refused."""
        found = re.search(r'o_rma_portal_error"[^>]*>([^<]*)<', response.text)
        return found and found.group(1)

    def _requests(self):
        return self.env["rma.order"].search([("partner_id", "=", self.contact_a.id)])

    def test_request_from_two_orders_and_a_typed_unit(self):
        self.authenticate("portal_a", "portal_a")
        form = self._get("/my/returns/new")
        for text in ("REQ-SN-1", "REQ-SN-2", self.imei, "PO-ONE", self.order_2.name):
            self.assertIn(text, form.text)
        self.assertNotIn("REQ-B-SN", form.text)
        response = self._post_request(
            {
                "reason_id": str(self.reason_with_proof.id),
                "unit": [self.keys["REQ-SN-1"], self.keys[self.imei]],
                f"qty_{self.keys['Test Cable']}": "2",
                "typed_serial": ["TYPED-SN-9", "", ""],
                "typed_order_ref": ["WEB-42", "", ""],
                "typed_product_id": [str(self.laptop.id), "", ""],
                "description": "Screen <b>flickers</b>",
            },
            files=[
                ("proof", ("invoice.pdf", PDF, "application/pdf")),
                ("photos", ("photo.heic", HEIC, "image/heic")),
                ("photos", ("photo.png", PNG, "image/png")),
            ],
        )
        self.assertEqual(response.status_code, 303, self._alert(response))
        rma = self._requests()
        self.assertEqual(len(rma), 1)
        self.assertIn(f"/my/returns/{rma.id}?access_token=", response.headers["Location"])
        self.assertRecordValues(
            rma,
            [
                {
                    "state": "draft",
                    "reason_id": self.reason_with_proof.id,
                    "sale_order_id": False,  # units of two orders
                    "company_id": self.company.id,
                    "customer_reference": "PO-ONE, " + self.order_2.name + ", WEB-42",
                }
            ],
        )
        self.assertNotIn("<b>", rma.description)
        self.assertRecordValues(
            rma.line_ids.sorted("serial_number"),
            [
                {"product_id": self.phone.id, "serial_number": self.imei, "quantity": 1, "has_flag": False},
                {"product_id": self.laptop.id, "serial_number": "REQ-SN-1", "quantity": 1, "has_flag": False},
                {"product_id": self.laptop.id, "serial_number": "TYPED-SN-9", "quantity": 1, "has_flag": True},
                {"product_id": self.cable.id, "serial_number": False, "quantity": 2, "has_flag": False},
            ],
        )
        self.assertTrue(rma.line_ids.filtered(lambda line: line.serial_number == "TYPED-SN-9").is_unknown_serial)
        self.assertEqual(rma.proof_attachment_ids.mapped("name"), ["invoice.pdf"])
        self.assertEqual(rma.proof_attachment_ids.mimetype, "application/pdf")
        photos = self.env["ir.attachment"].search([("res_model", "=", "rma.order"), ("res_id", "=", rma.id)])
        self.assertEqual(sorted(photos.mapped("mimetype")), ["application/pdf", "image/heic", "image/png"])
        self.assertTrue(rma.user_id and not rma.user_id.share)
        self.assertEqual(rma.activity_ids.user_id, rma.user_id)
        self.assertIn(self.contact_a, rma.message_partner_ids)
        # The customer sees it as Requested; the flags are for the staff.
        page = self._get(f"/my/returns/{rma.id}")
        self.assertEqual(page.status_code, 200)
        self.assertIn("Requested", page.text)
        self.assertIn("invoice.pdf", page.text)
        self.assertNotIn("Unknown Serial", page.text)
        # The serials now on a return are not offered again; the others still are.
        form = self._get("/my/returns/new")
        self.assertNotIn("REQ-SN-1", form.text)
        self.assertNotIn(self.imei, form.text)
        self.assertIn("REQ-SN-2", form.text)

    def test_refusals_write_nothing(self):
        self.authenticate("portal_a", "portal_a")
        base = {"reason_id": str(self.reason.id)}
        cable = f"qty_{self.keys['Test Cable']}"
        cases = [
            ({**base, cable: "6"}, (), "Return between 0 and 5"),
            ({**base, cable: "-1"}, (), "Return between 0 and 5"),
            ({**base, "unit": "999-l999"}, (), "not among your deliveries"),
            ({"unit": self.keys["REQ-SN-1"]}, (), "Choose the reason"),
            (base, (), "at least one unit"),
            # Customer B's serial: not delivered to A, so A must name the product (and learns nothing of it).
            ({**base, "typed_serial": "REQ-B-SN", "typed_order_ref": "", "typed_product_id": ""}, (), "Choose the"),
            ({"reason_id": str(self.reason_with_proof.id), "unit": self.keys["REQ-SN-1"]}, (), "requires a proof"),
            # A file is judged by its bytes, not its name or declared type.
            (
                {**base, "unit": self.keys["REQ-SN-1"]},
                [("proof", ("invoice.pdf", b"MZ\x90\x00 not a pdf", "application/pdf"))],
                "is not a PDF, JPEG, PNG or HEIC",
            ),
            (
                {**base, "unit": self.keys["REQ-SN-1"]},
                [("photos", ("big.png", PNG + b"\x00" * (5 * 1024 * 1024), "image/png"))],
                "larger than 5 MB",
            ),
        ]
        for data, files, message in cases:
            response = self._post_request(data, files)
            self.assertEqual(response.status_code, 200, message)
            self.assertIn(message, response.text.replace("&#39;", "'"))
            self.assertFalse(self._requests(), message)
        self.assertFalse(self.env["ir.attachment"].search([("res_model", "=", "rma.order"), ("res_id", "=", 0)]))

    def test_hourly_limits(self):
        self.env["ir.config_parameter"].set_param("rma_recovery.portal_requests_per_hour", "1")
        self.env["ir.config_parameter"].set_param("rma_recovery.portal_uploads_per_hour", "2")
        self.authenticate("portal_a", "portal_a")
        three_files = [("photos", (f"p{index}.png", PNG, "image/png")) for index in range(3)]
        data = {"reason_id": str(self.reason.id), "unit": self.keys["REQ-SN-1"]}
        response = self._post_request(data, three_files)
        self.assertIn("at most 2 files per hour", response.text)
        response = self._post_request(data, three_files[:2])
        self.assertEqual(response.status_code, 303, self._alert(response))
        response = self._post_request({**data, "unit": self.keys["REQ-SN-2"]})
        self.assertEqual(response.status_code, 200)
        self.assertIn("in the last hour", response.text)
        self.assertEqual(len(self._requests()), 1)

    def test_captcha_checked_when_a_captcha_module_is_installed(self):
        """The request route names its captcha action (``captcha="rma_request"``): with a captcha module installed,
        Odoo checks the token before the request is read. Here a stand-in for that module refuses it."""
        checked = []

        def refuse(ir_http, action):
            checked.append(action)
            raise UserError(ir_http.env._("Suspicious activity detected by the captcha."))

        self.authenticate("portal_a", "portal_a")
        IrHttp = type(self.env["ir.http"])
        with patch.object(IrHttp, "_verify_request_recaptcha_token", refuse, create=True), mute_logger("odoo.http"):
            form = self._get("/my/returns/new")
            self.assertEqual((form.status_code, checked), (200, []), "showing the form checks nothing")
            response = self._post_request({"reason_id": str(self.reason.id), "unit": self.keys["REQ-SN-1"]})
        self.assertEqual(checked, ["rma_request"])
        self.assertNotEqual(response.status_code, 303)
        self.assertFalse(self._requests(), "refused before anything is written")
        # Without a captcha module (Odoo's default verification accepts), the same request goes through.
        response = self._post_request({"reason_id": str(self.reason.id), "unit": self.keys["REQ-SN-1"]})
        self.assertEqual(response.status_code, 303, self._alert(response))

    def test_file_signatures(self):
        self.assertEqual(proof_mimetype(PDF), "application/pdf")
        self.assertEqual(proof_mimetype(b"\xff\xd8\xff\xe0JFIF"), "image/jpeg")
        self.assertEqual(proof_mimetype(PNG), "image/png")
        self.assertEqual(proof_mimetype(HEIC), "image/heic")
        for data in (b"", b"GIF89a", b"<svg onload=alert(1)>", b"\x00\x00\x00\x18ftypisom"):
            self.assertIsNone(proof_mimetype(data))


@tagged("post_install", "-at_install")
class TestRmaPortalTour(RmaPortalCommon):
    def test_request_then_download_the_label(self):
        self.env["rma.reason"].create({"name": "Portal tour reason", "code": "PTOUR", "is_proof_required": True})
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "order_line": [Command.create({"product_id": self.laptop.id, "product_uom_qty": 3})],
            }
        )
        self._deliver(self.customer, self.laptop, ["PTOUR-SN-1", "PTOUR-SN-2", "PTOUR-SN-3"], sale_order=order)

        self.start_tour("/my/returns", "rma_recovery_portal_request_tour", login="portal_a")

        rma = self.env["rma.order"].search([("partner_id", "=", self.contact_a.id)])
        self.assertRecordValues(rma, [{"state": "draft", "sale_order_id": order.id}])
        self.assertEqual(sorted(rma.line_ids.mapped("serial_number")), ["PTOUR-SN-1", "PTOUR-SN-2"])
        self.assertEqual(rma.proof_attachment_ids.mimetype, "application/pdf")

        rma.with_user(self.rma_manager).action_authorize()
        self.rma_a.action_cancel()  # the customer's other return: the list shows this one alone as authorized
        self.start_tour("/my/returns?filterby=authorized", "rma_recovery_portal_label_tour", login="portal_a")
