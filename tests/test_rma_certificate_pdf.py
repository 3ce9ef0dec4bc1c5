import io

import pytz

from odoo.tests import Form, tagged
from odoo.tools.pdf import PdfReader

from odoo.addons.rma_recovery.models.rma_custody_event import custody_hash
from odoo.addons.rma_recovery.models.rma_sanitization import HASHED_FIELDS

from .common_disposition import RmaDispositionCommon

EMPTY = "—"


def pdf_text(pdf):
    """The PDF's text in reading order, whitespace collapsed."""
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())


@tagged("post_install", "-at_install")
class TestRmaCertificatePdf(RmaDispositionCommon):
    """The printed Certificate of Sanitization states every field of NIST SP 800-88 Appendix G beside its own label,
    empty ones as "—", its dates in a named time zone (as the form shows them), and signature lines for both people;
    the chain-of-custody and disposition-batch PDFs print "—" for what is empty too."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.validator = cls._new_user("rma_cert_validator", "rma_recovery.group_rma_inspector", name="Vera Validator")
        cls.validator.partner_id.write({"function": "Data Protection Officer", "phone": "+32 2 555 01 02"})
        cls.company.partner_id.write(
            {
                "street": "Rue des Retours 7",
                "zip": "1000",
                "city": "Brussels",
                "country_id": cls.env.ref("base.be").id,
                "tz": "Europe/Brussels",
            }
        )
        cls.company.phone = "+32 2 555 00 00"

    def _certificate(self, serial):
        """The draft certificate the inspection of a data-bearing unit makes."""
        return self._data_bearing_unit(serial, "wipe").sanitization_ids

    def _render(self, report_xmlid, records):
        report = self.env.ref(report_xmlid)
        html = report._render_qweb_html(report.report_name, records.ids)[0].decode()
        pdf, report_type = report.with_context(force_report_rendering=True)._render_qweb_pdf(
            report.report_name, records.ids
        )
        self.assertEqual(report_type, "pdf")
        text = pdf_text(pdf)
        return html, text

    def assertLabelsFollowedByValues(self, text, expected):
        """Each (label, value) of ``expected`` appears as "label value" in ``text``, in that order: a label is
        followed by its own value, never by the next label (as an empty cell made it)."""
        position = 0
        for label, value in expected:
            pair = f"{label} {value}"
            found = text.find(pair, position)
            self.assertNotEqual(found, -1, f"{pair!r} not printed after position {position}:\n{text[position:]}")
            position = found + len(label)

    def _expected(self, certificate, values):
        """(label, value) in print order, every label of Appendix G: ``values`` by label, the rest from the record."""
        certificate.invalidate_recordset()
        selection = {
            name: dict(certificate._fields[name]._description_selection(self.env)).get(certificate[name])
            for name in ("state", "media_type", "method_type", "method", "verification", "media_destination")
        }
        pairs = [
            ("Certificate Number", certificate.name),
            ("Status", selection["state"]),
            ("Unit", certificate.product_id.display_name),
            ("Serial / IMEI", certificate.serial),
            ("RMA", certificate.rma_id.name),
            ("Country of Origin", certificate.origin_country_id.name or EMPTY),
            ("Issued by", f"{certificate.company_id.name}, Rue des Retours 7, 1000 Brussels, Belgium"),
            ("Name", certificate.performer_name or EMPTY),
            ("Title", certificate.performer_title or EMPTY),
            ("Organization", certificate.performer_organization or EMPTY),
            ("Location", certificate.performer_location or EMPTY),
            ("Phone", certificate.performer_phone or EMPTY),
            ("Date", certificate.performed_date_text or EMPTY),
            ("Recorded by", certificate.performed_by_id.name or EMPTY),
            ("Make / Manufacturer", certificate.media_make or EMPTY),
            ("Model Number", certificate.media_model or EMPTY),
            ("Media Serial Number", certificate.media_serial or EMPTY),
            ("Media Property Number", certificate.media_property_number or EMPTY),
            ("Media Type", selection["media_type"] or EMPTY),
            ("Source (User Name or PO)", certificate.media_source or EMPTY),
            ("Classification", certificate.classification or EMPTY),
            ("Data Backed Up", "Yes" if certificate.is_backed_up else "No"),
            ("Backup Location", certificate.backup_location if certificate.is_backed_up else "Not applicable"),
            ("Method Type", selection["method_type"]),
            ("Method Used", selection["method"]),
            ("Tool Used (and Version)", certificate.tool or EMPTY),
            ("Verification Method", selection["verification"] or EMPTY),
            ("Post-Sanitization Classification", certificate.post_classification or EMPTY),
            ("Media Destination", selection["media_destination"] or EMPTY),
            ("Method Details", certificate.method_details or EMPTY),
            ("Notes", certificate.notes or EMPTY),
            ("Name", certificate.validated_by_id.name or EMPTY),
            ("Title", certificate.validator_title or EMPTY),
            ("Organization", certificate.validator_organization or EMPTY),
            ("Location", certificate.validator_location or EMPTY),
            ("Phone", certificate.validator_phone or EMPTY),
            ("Date", certificate.validated_date_text or EMPTY),
            ("Certificate Hash (sha256)", certificate.hash or EMPTY),
        ]
        return [(label, values.get(label, value)) for label, value in pairs]

    def test_draft_certificate_prints_every_label_with_its_own_value(self):
        certificate = self._certificate("CERT-0001")
        self.assertEqual(certificate.state, "draft")
        html, text = self._render("rma_recovery.action_report_sanitization_certificate", certificate)
        self.assertLabelsFollowedByValues(text, self._expected(certificate, {}))
        # What the empty cells used to print: the next label in the value column, and a stray comma.
        for misread in (
            "Classification Data Backed Up",
            "Tool Used (and Version) Verification Method",
            "Post-Sanitization Classification Media Destination",
            "Validated by ,",
            " , ",
        ):
            self.assertNotIn(misread, text)
        for label in ("Classification", "Tool Used (and Version)", "Post-Sanitization Classification", "Title"):
            self.assertIn(f"{label} {EMPTY}", text)
        self.assertIn("Not validated (Draft)", text)
        self.assertIn("Date — Recorded by", text, "no date before it is performed")
        # Signature lines for both people, blank to sign on paper.
        self.assertEqual(text.count("Signature"), 2)
        self.assertEqual(html.count("o_rma_signature_line"), 2)

    def test_validated_certificate_states_the_facts_in_the_company_time_zone(self):
        certificate = self._certificate("CERT-0002")
        certificate.line_id.product_id.rma_origin_country_id = self.env.ref("base.tw")
        self.assertFalse(certificate.origin_country_id, "stored when the certificate was made")
        filled = {
            "performer_title": "Returns Technician",
            "performer_location": "Bench 2, Brussels",
            "performer_phone": "+32 2 555 01 01",
            "media_make": "Samsung",
            "media_model": "PM9A1",
            "media_serial": "S5A1NX0R123456",
            "media_property_number": "PROP-77",
            "media_type": "flash",
            "media_source": "PO 4471",
            "classification": "Confidential",
            "is_backed_up": True,
            "backup_location": "NAS-03 /returns",
            "tool": "Blancco Drive Eraser 7.2",
            "verification": "full",
            "post_classification": "Unclassified",
            "media_destination": "external_reuse",
            "method_details": "Three passes, firmware secure erase.",
            "notes": "Drive label intact.",
        }
        certificate.with_user(self.rma_inspector).write(filled)
        self.rma_inspector.tz = "America/New_York"  # the company's time zone wins over the user's
        certificate.with_user(self.rma_inspector).action_perform()
        certificate.with_user(self.validator).action_validate()
        self.assertEqual(certificate.state, "validated")

        # The validator's details come from their user and their company.
        self.assertRecordValues(
            certificate,
            [
                {
                    "validator_title": "Data Protection Officer",
                    "validator_organization": self.company.name,
                    "validator_location": "Rue des Retours 7, 1000 Brussels, Belgium",
                    "validator_phone": "+32 2 555 01 02",
                    "performer_title": "Returns Technician",  # typed: kept
                    "date_tz": "Europe/Brussels",
                }
            ],
        )
        brussels = pytz.timezone("Europe/Brussels")
        stated = {
            name: pytz.utc.localize(certificate[name]).astimezone(brussels).strftime("%Y-%m-%d %H:%M")
            + " (Europe/Brussels)"
            for name in ("performed_date", "validated_date")
        }
        self.assertEqual(certificate.performed_date_text, stated["performed_date"])
        self.assertEqual(certificate.validated_date_text, stated["validated_date"])

        html, text = self._render("rma_recovery.action_report_sanitization_certificate", certificate)
        self.assertLabelsFollowedByValues(
            text,
            self._expected(
                certificate,
                {"Verification Method": "Full", "Media Type": "Flash Memory", "Media Destination": "External Reuse"},
            ),
        )
        for value in filled.values():
            if isinstance(value, str) and value not in ("flash", "full", "external_reuse"):
                self.assertIn(value, text)
        self.assertIn(f"Date {stated['performed_date']}", text)
        self.assertIn(f"Date {stated['validated_date']}", text)
        self.assertIn(f"Name {self.validator.name} Title Data Protection Officer", text)
        self.assertNotIn("Not validated", text)
        self.assertIn(certificate.hash, text)
        self.assertEqual(html.count("o_rma_signature_line"), 2)

        # The form shows the dates as the PDF prints them, whatever the browser's time zone.
        form = Form(certificate.with_user(self.validator))
        self.assertEqual(form.validated_date_text, stated["validated_date"])
        self.assertEqual(form.performed_date_text, stated["performed_date"])

    def test_hash_covers_the_validator_and_keeps_older_certificates(self):
        certificate = self._certificate("CERT-0003")
        certificate.with_user(self.rma_inspector).write({"tool": "nwipe 0.35"})
        certificate.with_user(self.rma_inspector).action_perform()
        certificate.with_user(self.validator).action_validate()
        self.assertTrue(certificate._check_certificate_hash()[certificate])
        # The validator's title is part of what the hash seals.
        self.env.flush_all()
        self.env.cr.execute("UPDATE rma_sanitization SET validator_title = 'Chief' WHERE id = %s", [certificate.id])
        certificate.invalidate_recordset()
        self.assertFalse(certificate._check_certificate_hash()[certificate])
        # A certificate validated before the validator's details and the time zone existed keeps its hash.
        self.env.cr.execute(
            "UPDATE rma_sanitization SET validator_title = NULL, validator_organization = NULL,"
            " validator_location = NULL, validator_phone = NULL, date_tz = NULL WHERE id = %s",
            [certificate.id],
        )
        certificate.invalidate_recordset()
        old_values = certificate._hash_values()
        self.assertEqual(len(old_values), len(HASHED_FIELDS))
        self.assertEqual(certificate._compute_certificate_hash(), custody_hash(None, old_values))

    def test_custody_pdf_prints_a_dash_for_what_is_empty(self):
        certificate = self._certificate("CERT-0004")
        line = certificate.line_id
        _html, text = self._render("rma_recovery.action_report_unit_custody", line)
        for pair in (
            f"Serial / IMEI {line.serial_number}",
            f"Country of Origin {EMPTY}",
            f"Disposition {EMPTY}",
            f"Disposed On {EMPTY}",
            f"Disposition Batch {EMPTY}",
            "No validated certificate.",
            "Times in Europe/Brussels.",
            "Time (Europe/Brussels)",
        ):
            self.assertIn(pair, text)
        self.assertNotIn(" , ", text)

    def test_batch_pdf_prints_a_dash_for_what_is_empty(self):
        units = self._inspected_units(self.laptop, ["CERT-0101"])
        self.rma_inspector.tz = "Asia/Tokyo"  # the company's time zone wins over the user's
        form = Form(
            self.env["rma.disposition.wizard"]
            .with_user(self.rma_inspector)
            .with_context(active_model="rma.line", active_ids=units.ids)
        )
        with form.line_ids.edit(0) as row:
            row.disposition_id = self.code["RTS"]
        batch = self.env["rma.disposition.batch"].browse(form.save().action_prepare()["res_id"])
        _html, text = self._render("rma_recovery.action_report_disposition_batch", batch)
        for pair in (
            "Status Draft",
            "Time Zone Europe/Brussels",
            f"Prepared by {self.rma_inspector.name}",
            f"Confirmed by Not confirmed Confirmed on {EMPTY}",
            "None yet",
            f"Note {EMPTY}",
        ):
            self.assertIn(pair, text)
