import base64
import json
from datetime import datetime, timedelta

from psycopg2 import IntegrityError

from odoo import Command
from odoo.tests import HttpCase, mute_logger, tagged

from odoo.addons.api_doc.controllers.api_doc import parse_signature

from .common import RmaCommon
from .common_api import PDF, ApiExamplesMixin

ERROR_KEYS = ["name", "message", "arguments", "context", "debug"]


@tagged("post_install", "-at_install")
class TestRmaApi(RmaCommon, ApiExamplesMixin, HttpCase):
    """docs/API.md's curl examples, run as written against the test server with an integration user's API key."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.api_product = cls._create_product("API Laptop", tracking="serial", default_code="LAP-PB14")
        cls.api_customer = cls.env["res.partner"].create(
            {"name": "Web Customer", "is_company": True, "ref": "CUST-0042", "vat": "BE0477472701"}
        )
        cls.doa = cls.env["rma.reason"].create({"name": "Dead on arrival", "code": "DOA", "is_proof_required": False})
        cls._deliver(cls.api_customer, cls.api_product, [f"PB14-{index:05d}" for index in range(16, 20)])
        cls.integration_user = cls._new_user("rma_api", "rma_recovery.group_rma_integration")
        cls.api_key = cls._api_key(cls.integration_user)

        cls.other_company = cls._create_company(name="RMA API Other Company")
        cls.other_reason = cls.env["rma.reason"].create(
            {"name": "Other defect", "code": "DOA", "company_id": cls.other_company.id}
        )
        cls.other_rma = cls.env["rma.order"].create(
            {
                "company_id": cls.other_company.id,
                "partner_id": cls.api_customer.id,
                "reason_id": cls.other_reason.id,
                "line_ids": [Command.create({"product_id": cls.cable.id, "quantity": 1})],
            }
        )

    @classmethod
    def _api_key(cls, user):
        return (
            cls.env["res.users.apikeys"]
            .with_user(user)
            ._generate(scope="rpc", name="ERP connector", expiration_date=datetime.now() + timedelta(hours=12))
        )

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------
    def _json2(self, model, method, key=None, **body):
        """A JSON-2 call that is not one of the documentation's examples."""
        self.env.flush_all()
        response = self.url_open(
            f"/json/2/{model}/{method}",
            data=json.dumps(body),
            headers={
                "Authorization": f"bearer {key or self.api_key}",
                "X-Odoo-Database": self.env.cr.dbname,
                "Content-Type": "application/json",
            },
        )
        self.env.invalidate_all()
        return response.status_code, response.json()

    def assertApiError(self, status, answer, expected_status, name, message=None):
        self.assertEqual(status, expected_status, answer)
        self.assertEqual(list(answer), ERROR_KEYS)
        self.assertEqual(answer["name"], name)
        if message:
            self.assertIn(message, answer["message"])

    def _counts(self):
        return self.env["rma.order"].search_count([]), self.env["rma.line"].search_count([])

    # ------------------------------------------------------------------
    # Tests
    # ------------------------------------------------------------------
    def test_every_example_is_run(self):
        self.assertEqual(
            set(self.examples),
            {
                "submit",
                "submit_proof",
                "status",
                "status_by_id",
                "label",
                "wrong_key",
                "outside",
                "malformed_units",
                "malformed_proof",
            },
        )

    def test_submit_replay_status_label(self):
        status, answer = self._run_example("submit")
        self.assertEqual(status, 200, answer)
        rma = self.env["rma.order"].browse(answer["id"])
        self.assertRecordValues(
            rma,
            [
                {
                    "state": "draft",
                    "name": False,
                    "company_id": self.company.id,
                    "partner_id": self.api_customer.id,
                    "reason_id": self.doa.id,
                    "external_reference": "SHOP-10042-R1",
                    "customer_reference": "WEB-10042",
                    "create_uid": self.integration_user.id,
                    "has_flag": False,
                }
            ],
        )
        self.assertEqual(
            answer,
            {
                "id": rma.id,
                "rma_number": False,
                "state": "draft",
                "external_reference": "SHOP-10042-R1",
                "replayed": False,
                "units": [
                    {
                        "id": line.id,
                        "product": "LAP-PB14",
                        "serial": line.serial_number,
                        "quantity": 1.0,
                        "state": "draft",
                    }
                    for line in rma.line_ids
                ],
            },
        )
        # Checked as a back-office request is: each serial matched to its delivery to this customer.
        self.assertRecordValues(
            rma.line_ids,
            [
                {"serial_number": "PB14-00016", "remedy_requested": "refund", "is_unknown_serial": False},
                {"serial_number": "PB14-00017", "remedy_requested": "replacement", "is_unknown_serial": False},
            ],
        )
        self.assertTrue(all(rma.line_ids.mapped("delivery_move_id")))
        self.assertIn("Both laptops stay black", rma.description)

        # Replayed: the same RMA back, nothing written.
        counts, write_date = self._counts(), rma.write_date
        status, replay = self._run_example("submit")
        self.assertEqual(status, 200, replay)
        self.assertEqual(replay, {**answer, "replayed": True})
        self.assertEqual(self._counts(), counts)
        self.assertEqual(rma.write_date, write_date)

        status, statuses = self._run_example("status")
        self.assertEqual(status, 200, statuses)
        self.assertEqual(len(statuses), 1)
        self.assertEqual(statuses[0]["id"], rma.id)
        self.assertEqual(statuses[0]["state"], "draft")
        self.assertFalse(statuses[0]["label_url"])
        self.assertTrue(statuses[0]["units"][0]["milestones"]["requested"])
        self.assertFalse(statuses[0]["units"][0]["milestones"]["authorized"])

        status, error = self._run_example("label", RMA_ID=rma.id)
        self.assertApiError(status, error, 422, "odoo.exceptions.UserError", "is not authorized yet")

        rma.with_user(self.rma_manager).action_authorize()
        status, statuses = self._run_example("status_by_id", RMA_ID=rma.id)
        self.assertEqual(status, 200, statuses)
        [rma_status] = statuses
        self.assertEqual((rma_status["rma_number"], rma_status["state"]), (rma.name, "authorized"))
        self.assertTrue(rma_status["label_url"].endswith(f"/report/pdf/rma_recovery.report_rma_label/{rma.id}"))
        self.assertEqual({unit["state"] for unit in rma_status["units"]}, {"authorized"})
        self.assertTrue(all(unit["milestones"]["authorized"] for unit in rma_status["units"]))
        self.assertEqual({unit["remedy_state"] for unit in rma_status["units"]}, {"pending"})

        status, label = self._run_example("label", RMA_ID=rma.id)
        self.assertEqual(status, 200, label)
        self.assertEqual(label["rma_number"], rma.name)
        # Tests render reports as HTML (Odoo's test mode); a server prints the PDF.
        self.assertIn(label["mimetype"], ("application/pdf", "text/html"))
        self.assertTrue(label["filename"].startswith(f"RMA Label - {rma.name.replace('/', '-')}."))
        self.assertIn(rma.name.encode(), base64.b64decode(label["data"]))

    def test_submit_with_proof_by_vat(self):
        status, answer = self._run_example("submit_proof")
        self.assertEqual(status, 200, answer)
        rma = self.env["rma.order"].browse(answer["id"])
        self.assertEqual(rma.partner_id, self.api_customer)
        self.assertRecordValues(
            rma.proof_attachment_ids,
            [{"name": "invoice.pdf", "mimetype": "application/pdf", "res_model": "rma.order", "res_id": rma.id}],
        )
        self.assertEqual(rma.proof_attachment_ids.raw, PDF)

    def test_wrong_key(self):
        status, error = self._run_example("wrong_key")
        self.assertApiError(status, error, 401, "werkzeug.exceptions.Unauthorized")

    def test_methods_outside_the_api_are_refused(self):
        _status, answer = self._run_example("submit")
        rma = self.env["rma.order"].browse(answer["id"])
        status, error = self._run_example("outside", RMA_ID=rma.id)
        self.assertApiError(status, error, 403, "odoo.exceptions.AccessError")
        self.assertIn("Both laptops", rma.description)
        counts = self._counts()
        for model, method, body in (
            ("rma.order", "action_authorize", {"ids": [rma.id]}),
            ("rma.order", "action_cancel", {"ids": [rma.id]}),
            ("rma.order", "unlink", {"ids": [rma.id]}),
            ("rma.line", "write", {"ids": rma.line_ids.ids, "vals": {"serial_number": "X"}}),
            ("rma.order", "create", {"vals_list": [{"partner_id": self.api_customer.id, "reason_id": self.doa.id}]}),
            ("stock.picking", "search_read", {"domain": [], "fields": ["name"]}),
            ("account.move", "search_read", {"domain": [], "fields": ["name"]}),
        ):
            with self.subTest(model=model, method=method):
                status, error = self._json2(model, method, **body)
                self.assertApiError(status, error, 403, "odoo.exceptions.AccessError")
        self.assertEqual(self._counts(), counts)
        self.assertEqual(rma.state, "draft")
        status, error = self._json2("rma.order", "_api_create_request", vals={}, attachment_vals=None)
        self.assertApiError(status, error, 403, "odoo.exceptions.AccessError", "Private methods")

    def test_other_company_rma_is_refused(self):
        for example in ("status_by_id", "outside"):
            with self.subTest(example=example):
                status, error = self._run_example(example, RMA_ID=self.other_rma.id)
                self.assertApiError(status, error, 403, "odoo.exceptions.AccessError")
        status, error = self._json2("rma.order", "api_label", ids=[self.other_rma.id])
        self.assertApiError(status, error, 403, "odoo.exceptions.AccessError")
        # Another caller's reference is not found, whoever the RMA's company.
        self.other_rma.sudo().external_reference = "SHOP-10042-R1"
        status, error = self._run_example("status")
        self.assertApiError(status, error, 422, "odoo.exceptions.ValidationError", "SHOP-10042-R1")

    def test_back_office_rmas_are_not_the_integrations(self):
        """The integration user follows the requests it submitted: not those of the back office, even in its
        company, whether through the API or Odoo's own read methods."""
        self._deliver(self.customer, self.laptop, ["SN-STAFF-0001"])
        staff_rma = self._create_rma([(self.laptop, "SN-STAFF-0001")], user=self.rma_user)
        status, error = self._run_example("status_by_id", RMA_ID=staff_rma.id)
        self.assertApiError(status, error, 403, "odoo.exceptions.AccessError")
        _status, answer = self._run_example("submit")
        rma = self.env["rma.order"].browse(answer["id"])
        for model, own in (("rma.order", rma), ("rma.line", rma.line_ids)):
            status, found = self._json2(model, "search_read", domain=[], fields=["id"])
            self.assertEqual(status, 200, found)
            self.assertEqual({row["id"] for row in found}, set(own.ids))

    def test_api_doc_renders_the_docstrings(self):
        """Odoo's /doc shows each parameter, the answer and the errors of the three methods, from their docstrings."""
        rma_class = type(self.env["rma.order"])
        with self.assertNoLogs("odoo.addons.api_doc.controllers.api_doc", "WARNING"):
            signatures = {
                name: parse_signature(getattr(rma_class, name))
                for name in ("api_submit_request", "api_status", "api_label")
            }
        for name, signature in signatures.items():
            with self.subTest(method=name):
                self.assertTrue(signature.doc)
                self.assertTrue(signature.return_.doc)
                self.assertIn("AccessError", signature.raise_)
                self.assertEqual([param for param, value in signature.parameters.items() if not value.doc], [])
        self.assertEqual(signatures["api_submit_request"].api, ["model"])
        self.assertEqual(signatures["api_status"].api, ["readonly"])

    def test_one_rma_per_reference_company_and_caller(self):
        """The database holds the reference unique per company and caller: two concurrent submissions of one
        request cannot both create an RMA (the second is answered a 422 and, sent again, gets the first's RMA)."""
        values = {
            "partner_id": self.api_customer.id,
            "reason_id": self.doa.id,
            "external_reference": "SHOP-1",
            "line_ids": [Command.create({"product_id": self.cable.id, "quantity": 1})],
        }
        rmas = self.env["rma.order"].create(
            [values, {**values, "company_id": self.other_company.id, "reason_id": self.other_reason.id}]
        )
        rmas |= self.env["rma.order"].with_user(self.integration_user).sudo().create(values)
        self.assertEqual(len(rmas), 3)
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            self.env["rma.order"].create(values)
            self.env.flush_all()

    def test_back_office_users_are_refused(self):
        key = self._api_key(self.rma_manager)
        status, error = self._json2("rma.order", "api_status", key=key, external_references=["SHOP-10042-R1"])
        self.assertApiError(status, error, 403, "odoo.exceptions.AccessError", "Returns Integration users only")

    def test_malformed_payloads(self):
        counts = self._counts()
        status, error = self._run_example("malformed_units")
        self.assertApiError(status, error, 422, "odoo.exceptions.ValidationError", "units: a list of 1 to 100")
        status, error = self._run_example("malformed_proof")
        self.assertApiError(status, error, 422, "odoo.exceptions.ValidationError", "not a PDF, JPEG, PNG or HEIC")
        unit = {"product": "LAP-PB14", "serial": "PB14-00019"}
        request = {"external_reference": "SHOP-10046-R1", "customer_ref": "CUST-0042", "reason_code": "DOA"}
        too_big = base64.b64encode(PDF + b"0" * (10 * 1024 * 1024)).decode()
        for body, name, message in (
            ({**request, "units": [unit]} | {"customer_ref": "NOBODY"}, "ValidationError", "NOBODY"),
            ({**request, "units": [unit], "customer_vat": "BE0477472701"}, "ValidationError", "one of them"),
            ({**request, "units": [unit], "reason_code": "NOPE"}, "ValidationError", "NOPE"),
            ({**request, "units": [{**unit, "product": "NOPE"}]}, "ValidationError", "units[0].product"),
            ({**request, "units": [{**unit, "colour": "red"}]}, "ValidationError", "units[0]: unknown keys colour"),
            ({**request, "units": [{**unit, "quantity": "1"}]}, "ValidationError", "units[0].quantity"),
            ({**request, "units": [{**unit, "remedy": "cash"}]}, "ValidationError", "units[0].remedy"),
            ({**request, "units": [{**unit, "serial": 42}]}, "ValidationError", "units[0].serial"),
            ({**request, "units": [{"product": "LAP-PB14"}]}, "ValidationError", "serial number"),
            ({**request, "units": [unit, unit]}, "ValidationError", "twice"),
            ({**request, "units": [unit], "external_reference": "x" * 65}, "ValidationError", "external_reference"),
            ({**request, "units": [unit], "proof": {"filename": "a.pdf", "data": "%%%"}}, "ValidationError", "base64"),
            ({**request, "units": [unit], "proof": {"filename": "a.pdf", "data": too_big}}, "ValidationError", "MB"),
            ({**request, "units": [unit], "proof": "invoice.pdf"}, "ValidationError", "proof"),
            ({"external_reference": "SHOP-10046-R1", "units": [unit]}, "UnprocessableEntity", "reason_code"),
            ({**request, "units": [unit], "ids": [1]}, "UnprocessableEntity", "with ids"),
            ({**request, "units": [unit], "colour": "red"}, "UnprocessableEntity", "colour"),
        ):
            with self.subTest(body=str(body)[:120]):
                status, error = self._json2("rma.order", "api_submit_request", **body)
                module = "werkzeug.exceptions" if name == "UnprocessableEntity" else "odoo.exceptions"
                self.assertApiError(status, error, 422, f"{module}.{name}", message)
        self.assertEqual(self._counts(), counts)
