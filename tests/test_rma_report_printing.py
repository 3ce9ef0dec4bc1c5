import io
import json
import unittest

from odoo import fields, http
from odoo.tests import Form, HttpCase, tagged
from odoo.tools.pdf import PdfReader

from .common import RmaTourMixin
from .common_disposition import RmaDispositionCommon


def pdf_pages(pdf):
    """The text of each page of ``pdf``, whitespace collapsed."""
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]


@tagged("post_install", "-at_install")
class TestRmaReportPrinting(RmaDispositionCommon):
    """Each report of the addon prints several records in one PDF with the wkhtmltopdf the harness installs
    (Debian's, built against an unpatched Qt, which converts one document per run)."""

    def _print(self, report_xmlid, records):
        """The PDF of ``records``, as the Print menu renders it; the pages' texts. Odoo skips a test whose
        multi-document print the binary refuses: here that is a failure."""
        report = self.env["ir.actions.report"].with_context(force_report_rendering=True)
        try:
            pdf, report_type = report._render_qweb_pdf(report_xmlid, res_ids=records.ids)
        except unittest.SkipTest as error:
            self.fail(f"{report_xmlid} cannot print {len(records)} records: {error}")
        self.assertEqual(report_type, "pdf")
        return pdf_pages(pdf)

    def _assert_documents(self, pages, title, identifiers):
        """One document per identifier, each with its ``title``, in the order of the records, from its own page."""
        text = " ".join(pages)
        self.assertEqual(text.count(title), len(identifiers), text)
        self.assertGreaterEqual(len(pages), len(identifiers))
        positions = [text.index(identifier) for identifier in identifiers]
        self.assertEqual(positions, sorted(positions), "the documents in the order of the records")
        first_pages = [next(index for index, page in enumerate(pages) if ident in page) for ident in identifiers]
        self.assertEqual(len(set(first_pages)), len(identifiers), "each document starts on a page of its own")

    def _received_units(self, serials):
        product = self._new_product()
        self._purchase(product, serials, 400.0)
        self._deliver(self.customer, product, serials, from_stock=True)
        rma = self._create_rma([(product, serial) for serial in serials])
        rma.action_authorize()
        self.env["stock.picking"]._rma_receive(rma.line_ids, station="DOCK-1")
        return rma.line_ids.sorted("id")

    def test_every_report_of_the_addon_is_printed_here(self):
        reports = self.env["ir.actions.report"].search([("report_name", "=like", "rma_recovery.%")])
        self.assertEqual(
            set(reports.mapped("report_name")),
            {f"rma_recovery.{name}" for name in self.PRINTED},
            "a new report gets its multi-record print test",
        )
        self.assertEqual(set(reports.mapped("report_type")), {"qweb-pdf"})

    PRINTED = (
        "report_rma_label",
        "report_unit_custody",
        "report_sanitization_certificate",
        "report_disposition_batch",
        "report_custody_integrity",
        "report_audit_checklist",
        "report_rma_kpi",
    )

    def test_labels(self):
        self._deliver(self.customer, self.laptop, ["PRL-1", "PRL-2"])
        rmas = self._create_rma([(self.laptop, "PRL-1")]) | self._create_rma([(self.laptop, "PRL-2")])
        rmas.action_authorize()
        pages = self._print("rma_recovery.action_report_rma_label", rmas)
        self._assert_documents(pages, "Return Merchandise Authorization", rmas.mapped("name"))

    def test_chains_of_custody(self):
        units = self._received_units(["PRC-1", "PRC-2"])
        pages = self._print("rma_recovery.action_report_unit_custody", units)
        self._assert_documents(pages, "Chain of Custody PRC-", ["PRC-1", "PRC-2"])

    def test_certificates(self):
        units = self._received_units(["PRS-1", "PRS-2"])
        inspector_units = units.with_user(self.rma_inspector)
        inspector_units.action_start_inspection()
        inspector_units.inspection_id.write(
            {
                "grade_id": self.grade_a.id,
                "functional_result": "pass",
                "is_data_bearing": True,
                "data_security": "wipe",
            }
        )
        inspector_units.inspection_id.action_done()
        certificates = units.sanitization_ids.sorted("id")
        self.assertEqual(len(certificates), 2)
        pages = self._print("rma_recovery.action_report_sanitization_certificate", certificates)
        self._assert_documents(pages, "Certificate of Sanitization", certificates.mapped("name"))
        self._assert_documents(pages, "PRS-", ["PRS-1", "PRS-2"])

    def test_disposition_batches(self):
        units = self._inspect(self._received_units(["PRB-1", "PRB-2"]))
        batches = self.env["rma.disposition.batch"]
        for unit in units:
            form = Form(
                self.env["rma.disposition.wizard"]
                .with_user(self.rma_inspector)
                .with_context(active_model="rma.line", active_ids=unit.ids)
            )
            with form.line_ids.edit(0) as row:
                row.disposition_id = self.code["RTS"]
            batches |= batches.browse(form.save().action_prepare()["res_id"])
        self.assertEqual(len(batches), 2)
        pages = self._print("rma_recovery.action_report_disposition_batch", batches)
        self._assert_documents(pages, "Disposition Batch", batches.mapped("name"))
        self._assert_documents(pages, "PRB-", ["PRB-1", "PRB-2"])

    def test_custody_integrity_of_two_companies(self):
        self._received_units(["PRI-1"])
        companies = self.company | self.env["res.company"].create({"name": "RMA Second Company"})
        pages = self._print("rma_recovery.action_report_custody_integrity", companies)
        self.assertEqual(" ".join(pages).count("Chain of Custody Integrity Check"), 2)
        self.assertEqual(len(pages), 2, "one page per company")
        self.assertTrue(all("Intact." in page for page in pages))

    def test_audit_checklists(self):
        today = fields.Date.today()
        checklists = self.env["rma.audit.checklist"].create(
            [{"company_id": self.company.id, "date_from": today.replace(day=1), "date_to": today}] * 2
        )
        for checklist in checklists:
            checklist.action_compute()
        pages = self._print("rma_recovery.action_report_audit_checklist", checklists)
        self.assertEqual([page.count("Returns Audit Checklist") for page in pages], [1, 1])

    def test_kpi_reports(self):
        first_day = fields.Date.today().replace(day=1)
        reports = self.env["rma.kpi.report"].create(
            [
                {"company_id": self.company.id, "period": "month", "date_from": first_day},
                {
                    "company_id": self.company.id,
                    "period": "month",
                    "date_from": fields.Date.subtract(first_day, months=1),
                },
            ]
        )
        pages = self._print("rma_recovery.action_report_rma_kpi", reports)
        self.assertEqual(" ".join(pages).count("Returns KPIs"), 2)
        self.assertEqual(sum(1 for page in pages if "Returns KPIs" in page), 2, "each report starts a page")

    def test_attachments_are_saved_and_reused_per_record(self):
        """A report that keeps its PDFs (attachment_use) stores one per record, and prints them from then on."""
        report = self.env.ref("rma_recovery.action_report_rma_label")
        report.write({"attachment": "'Label %s.pdf' % object.name", "attachment_use": True})
        self._deliver(self.customer, self.laptop, ["PRA-1", "PRA-2"])
        rmas = self._create_rma([(self.laptop, "PRA-1")]) | self._create_rma([(self.laptop, "PRA-2")])
        rmas.action_authorize()
        pages = self._print("rma_recovery.action_report_rma_label", rmas)
        self._assert_documents(pages, "Return Merchandise Authorization", rmas.mapped("name"))
        attachments = self.env["ir.attachment"].search([("res_model", "=", "rma.order"), ("res_id", "in", rmas.ids)])
        self.assertEqual(
            sorted(attachments.mapped("name")), sorted(f"Label {name}.pdf" for name in rmas.mapped("name"))
        )
        for rma, attachment in zip(rmas, attachments.sorted("res_id"), strict=True):
            self.assertIn(rma.name, " ".join(pdf_pages(attachment.raw)))
        # Printed again: the stored documents, not a new rendering.
        rmas[0].partner_id.name = "Renamed Customer"
        self.assertEqual(self._print("rma_recovery.action_report_rma_label", rmas), pages)
        self.assertEqual(
            self.env["ir.attachment"].search_count([("res_model", "=", "rma.order"), ("res_id", "in", rmas.ids)]), 2
        )

    def test_a_record_named_twice_prints_twice(self):
        self._deliver(self.customer, self.laptop, ["PRD-1", "PRD-2"])
        rmas = self._create_rma([(self.laptop, "PRD-1")]) | self._create_rma([(self.laptop, "PRD-2")])
        rmas.action_authorize()
        report = self.env["ir.actions.report"].with_context(force_report_rendering=True)
        try:
            pdf, _type = report._render_qweb_pdf(
                "rma_recovery.action_report_rma_label", [rmas[0].id, rmas[1].id, rmas[0].id]
            )
        except unittest.SkipTest as error:
            self.fail(str(error))
        text = " ".join(pdf_pages(pdf))
        self.assertEqual(text.count("Return Merchandise Authorization"), 3)
        self.assertEqual(text.count(rmas[0].name), 2 * text.count(rmas[1].name))


@tagged("post_install", "-at_install")
class TestRmaReportDownload(RmaTourMixin, HttpCase):
    """The web client's Print of several records: one request to /report/download, one PDF."""

    def test_print_two_labels_from_the_list(self):
        env = self.env
        customer = env["res.partner"].create({"name": "Printing Customer", "is_company": True})
        reason = env["rma.reason"].create({"name": "Print reason", "code": "PRNT", "is_proof_required": False})
        laptop = env["product.product"].create(
            {"name": "Print Laptop", "type": "consu", "is_storable": True, "tracking": "serial"}
        )
        self._deliver(customer, laptop, ["PRH-1", "PRH-2"])
        rmas = self._authorized_rma(customer, reason, laptop, ["PRH-1"]) | self._authorized_rma(
            customer, reason, laptop, ["PRH-2"]
        )
        self.authenticate("admin", "admin")
        pages = [self._download(rma.ids) for rma in rmas]
        both = self._download(rmas.ids)
        self.assertEqual(len(both), sum(len(document) for document in pages), "both documents, whole")
        # The served PDF draws its text with the web fonts, as outlines: where pypdf reads some, it is theirs.
        self.assertEqual(" ".join(both), " ".join(" ".join(document) for document in pages))

    def _download(self, ids):
        """The PDF of the labels of ``ids`` as the web client gets it: one POST to /report/download."""
        url = f"/report/pdf/rma_recovery.report_rma_label/{','.join(map(str, ids))}"
        response = self.url_open(
            "/report/download",
            data={
                "data": json.dumps([url, "qweb-pdf"]),
                # Odoo renders HTML in tests unless asked for the PDF.
                "context": json.dumps({"force_report_rendering": True}),
                "csrf_token": http.Request.csrf_token(self),
            },
            timeout=120,
        )
        self.assertEqual(response.status_code, 200, response.text[:2000])
        self.assertEqual(response.headers["Content-Type"], "application/pdf")
        return pdf_pages(response.content)
