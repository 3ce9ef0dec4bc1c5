import io

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged
from odoo.tools.pdf import PdfReader

from .common_disposition import RmaDispositionCommon
from .common_rpc import USER_ERROR, RmaRpcCommon


@tagged("post_install", "-at_install")
class TestRmaSanitization(RmaDispositionCommon):
    """Certificates of sanitization (NIST SP 800-88): two people, locked once validated, and the rules that tie the
    disposition and the closing of a data-bearing unit to them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.second_inspector = cls._new_user("rma_inspector_two", "rma_recovery.group_rma_inspector")

    def _data_bearing_unit(self, serial, requirement):
        """Made in Germany: the certificate stores the country of origin."""
        return super()._data_bearing_unit(serial, requirement, rma_origin_country_id=self.env.ref("base.de").id)

    def _perform_and_validate(self, certificates):
        certificates.with_user(self.rma_inspector).write({"tool": "Blancco 7.2", "media_serial": "SSD-1"})
        certificates.with_user(self.rma_inspector).action_perform()
        certificates.with_user(self.second_inspector).action_validate()

    def test_inspection_drafts_the_certificate_and_two_people_validate_it(self):
        line = self._data_bearing_unit("SAN-0001", "wipe")
        certificate = line.sanitization_ids
        self.assertRecordValues(
            certificate,
            [{"state": "draft", "method_type": "purge", "method": "overwrite", "serial": "SAN-0001"}],
        )
        self.assertTrue(certificate.name.startswith("SAN/"))
        with self.assertRaises(AccessError):
            certificate.with_user(self.rma_user).action_perform()
        with self.assertRaisesRegex(UserError, "tool used"):
            certificate.with_user(self.rma_inspector).action_perform()
        certificate.with_user(self.rma_inspector).write({"tool": "Blancco 7.2"})
        certificate.with_user(self.rma_inspector).action_perform()
        self.assertEqual(certificate.performed_by_id, self.rma_inspector)
        with self.assertRaisesRegex(UserError, "not edited"):
            certificate.with_user(self.rma_inspector).write({"tool": "dd"})
        with self.assertRaisesRegex(UserError, "second person"):
            certificate.with_user(self.rma_inspector).action_validate()
        self.assertEqual(certificate.state, "performed")
        certificate.with_user(self.second_inspector).action_validate()
        self.assertRecordValues(certificate, [{"state": "validated", "validated_by_id": self.second_inspector.id}])
        self.assertRegex(certificate.hash, r"^\$1\$[0-9a-f]{64}$")
        self.assertTrue(certificate._check_certificate_hash()[certificate])
        events = line.custody_event_ids.sorted("sequence")
        self.assertEqual(events[-2:].mapped("event_type"), ["wipe", "certificate"])
        self.assertIn(certificate.hash, events[-1].note)

        # Locked: no write, unlink or cancel, not even for the superuser; a client cannot set its server fields.
        for record in (certificate, certificate.sudo()):
            with self.assertRaisesRegex(UserError, "never changed"):
                record.write({"notes": "changed"})
            with self.assertRaises(UserError):
                record.unlink()
        with self.assertRaises(UserError):
            certificate.with_user(self.rma_manager).action_cancel()
        with self.assertRaises(AccessError):
            self.env["rma.sanitization"].with_user(self.rma_inspector).create(
                {"line_id": line.id, "state": "validated", "hash": "0" * 64}
            )

    def test_certificate_pdf(self):
        line = self._data_bearing_unit("SAN-0101", "wipe")
        certificate = line.sanitization_ids
        self._perform_and_validate(certificate)
        report = self.env.ref("rma_recovery.action_report_sanitization_certificate")
        html = report._render_qweb_html(report.report_name, certificate.ids)[0].decode()
        for text in (certificate.name, "SAN-0101", "SSD-1", "Blancco 7.2", "Purge", certificate.hash):
            self.assertIn(text, html)
        self.assertIn('alt="Barcode SAN-0101"', html)
        self.assertIn("Germany", html, "the country of origin, stored on the certificate")
        self.assertEqual(certificate.origin_country_id, self.env.ref("base.de"))
        self.assertIn(self.rma_inspector.name, html)
        self.assertIn(self.second_inspector.name, html)
        pdf, report_type = report.with_context(force_report_rendering=True)._render_qweb_pdf(
            report.report_name, certificate.ids
        )
        self.assertEqual(report_type, "pdf")
        text = " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())
        for expected in (certificate.name, "SAN-0101", "SSD-1", "Blancco 7.2", "Purge", "Germany"):
            self.assertIn(expected, text)
        # The report's action (wrapped in the document-layout step while the company has not chosen one).
        self.assertIn(report.report_name, str(line.action_print_certificates()))

    def test_wipe_required_before_restock_refurbish_repair(self):
        line = self._data_bearing_unit("SAN-0201", "wipe")
        moves_before = self.env["stock.move"].search_count([])
        with self.assertRaisesRegex(UserError, "must be wiped first"):
            self._dispose(line, self.code["RTS"])
        self.assertEqual(self.env["stock.move"].search_count([]), moves_before)
        self.assertEqual(line.state, "inspection")
        self._perform_and_validate(line.sanitization_ids)
        self._dispose(line, self.code["RTS"])
        self.assertEqual(line.state, "closed")

    def test_destroy_required_unit_is_disposed_sd_and_closes_with_each_medium_destroyed(self):
        line = self._data_bearing_unit("SAN-0301", "destroy")
        ssd = line.sanitization_ids
        self.assertRecordValues(ssd, [{"method_type": "destroy", "method": "shred"}])
        with self.assertRaisesRegex(UserError, "must be destroyed"):
            self._dispose(line, self.code["RTS"])
        with self.assertRaisesRegex(UserError, "must be destroyed"):
            self._dispose(line, self.code["PH"], recovery_value=10.0)
        self._dispose(line, self.code["SD"])
        self.assertEqual(line.state, "disposition")
        # A second medium, the NVMe cache: the unit closes once both are destroyed.
        form = Form(self.env["rma.sanitization"].with_user(self.rma_inspector).with_context(default_line_id=line.id))
        form.method_type = "destroy"
        form.method = "disintegrate"
        form.performer_name = "Ana Tech"
        form.media_serial = "NVME-2"
        cache = form.save()
        self._perform_and_validate(ssd)
        self.assertEqual(line.state, "disposition", "the cache is not destroyed yet")
        with self.assertRaisesRegex(UserError, "validated Destroy certificate"):
            line._close_destroyed("too early")
        self._perform_and_validate(cache)
        self.assertEqual(line.state, "closed")
        self.assertIn(cache.name, line.custody_event_ids.sorted("sequence")[-1].note)

    def test_rules_can_be_switched_off(self):
        self.company.rma_sanitization_rules = False
        line = self._data_bearing_unit("SAN-0401", "wipe")
        self._dispose(line, self.code["RTS"])
        self.assertEqual(line.state, "closed")

    def test_audit_checklist(self):
        wiped = self._data_bearing_unit("AUD-0001", "wipe")
        self._perform_and_validate(wiped.sanitization_ids)
        self._dispose(wiped, self.code["RTS"])
        destroyed = self._data_bearing_unit("AUD-0002", "destroy")
        self._dispose(destroyed, self.code["SD"])
        if self.company._action_close_stock_valuation():
            self.company.action_close_stock_valuation(auto_post=True)
        checklist = self.env["rma.audit.checklist"].with_user(self.rma_manager).create({"company_id": self.company.id})
        with self.assertRaises(AccessError):
            checklist.with_user(self.rma_user).action_compute()
        checklist.action_compute()
        items = {item.name: item for item in checklist.item_ids}
        certified = items["Data-bearing units with a validated certificate"]
        self.assertRecordValues(certified, [{"total": 2, "passed": 1, "failing_count": 1}])
        self.assertEqual(certified.action_open_failing()["res_id"], destroyed.id)
        self.assertRecordValues(
            items["Receipts scanned against an RMA"], [{"total": 2, "passed": 0, "failing_count": 2}]
        )
        self.assertRecordValues(items["Units inspected before disposition"], [{"total": 2, "passed": 2}])
        self.assertRecordValues(items["RMAs submitted with serial, reason and proof"], [{"total": 2, "passed": 0}])
        self.assertRecordValues(
            items["Dispositions whose entries reference the RMA and code"], [{"total": 1, "passed": 1}]
        )
        self.assertRecordValues(items["Custody chain integrity"], [{"passed": 1}])
        self.assertRecordValues(items["Stock value agrees with the ledger"], [{"passed": 1}])
        report = self.env.ref("rma_recovery.action_report_audit_checklist")
        html = report._render_qweb_html(report.report_name, checklist.ids)[0].decode()
        self.assertIn("Data-bearing units with a validated certificate", html)
        self.assertIn("50.0 %", html)


@tagged("post_install", "-at_install")
class TestRmaSanitizationRpc(RmaRpcCommon):
    """Certificates and blocked serials over JSON-RPC: two people, and only a manager lifts a block."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_inspector = cls._new_user("rma_inspector_2", "rma_recovery.group_rma_inspector")

    def test_sanitization_and_block_over_rpc(self):
        """Over JSON-RPC: the performer cannot validate their own certificate, nobody writes a certificate's state or
        hash or a serial's block, and only a manager lifts a block."""
        product = self._new_product("fifo")
        self._purchase(product, ["RPC-SAN1"], 500.0)
        self._deliver(self.customer, product, ["RPC-SAN1"], from_stock=True)
        rma = self._create_rma([(product, "RPC-SAN1")])
        rma.action_authorize()
        unit = rma.line_ids
        self.env["stock.picking"]._rma_receive(unit, station="DOCK-1")
        unit.with_user(self.rma_inspector).action_start_inspection()
        unit.inspection_id.with_user(self.rma_inspector).write(
            {
                "grade_id": self.grade_a.id,
                "functional_result": "pass",
                "is_data_bearing": True,
                "data_security": "destroy",
            }
        )
        unit.inspection_id.with_user(self.rma_inspector).action_done()
        certificate = unit.sanitization_ids
        certificate.with_user(self.rma_inspector).write({"tool": "Shredder X"})
        self.assertRefused(self._call(self.rma_user, "rma.sanitization", "action_perform", certificate.ids))
        self.assertNotIn("error", self._call(self.rma_inspector, "rma.sanitization", "action_perform", certificate.ids))
        self.assertRefused(
            self._call(self.rma_inspector, "rma.sanitization", "action_validate", certificate.ids), USER_ERROR
        )
        for vals in ({"state": "validated"}, {"hash": "0" * 64}, {"validated_by_id": self.other_inspector.id}):
            self.assertRefused(self._call(self.rma_manager, "rma.sanitization", "write", certificate.ids, vals))
        self.assertEqual(certificate.state, "performed")
        self._dispose(unit, self.code["SD"])
        self.assertNotIn(
            "error", self._call(self.other_inspector, "rma.sanitization", "action_validate", certificate.ids)
        )
        self.assertEqual(unit.state, "closed")
        lot = unit.lot_id
        self.assertTrue(lot.is_rma_blocked)
        self.assertRefused(self._call(self.rma_manager, "stock.lot", "write", lot.ids, {"is_rma_blocked": False}))
        self.assertRefused(
            self._call(self.rma_user, "stock.lot", "_action_rma_unblock", lot.ids, "x"), "odoo.exceptions.AccessError"
        )
        wizard = self._call(
            self.rma_user, "rma.unblock.wizard", "create", {"lot_ids": [Command.set(lot.ids)], "reason": "x"}
        )
        self.assertRefused(wizard)
        wizard_id = self._call(
            self.rma_manager, "rma.unblock.wizard", "create", {"lot_ids": [Command.set(lot.ids)], "reason": "audited"}
        )["result"]
        self.assertNotIn("error", self._call(self.rma_manager, "rma.unblock.wizard", "action_confirm", [wizard_id]))
        self.assertFalse(lot.is_rma_blocked)
