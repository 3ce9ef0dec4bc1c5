from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged

from .common import RmaCommon


@tagged("post_install", "-at_install")
class TestRmaInspection(RmaCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ref = cls.env.ref
        cls.grade = {code: ref(f"rma_recovery.rma_grade_{code}") for code in ("a", "b", "c", "d", "salvage")}
        cls.disposition = {
            code: ref(f"rma_recovery.rma_disposition_{code}") for code in ("rts", "ref", "rep", "ph", "rec", "sd")
        }
        cls.failure_display = ref("rma_recovery.rma_failure_display")
        cls.failure_liquid = ref("rma_recovery.rma_failure_liquid")

    def _received_line(self, serial, reason=None):
        rma = self._authorized_rma([serial], reason_id=(reason or self.reason).id)
        self._scan(rma.name, serial)
        return rma.line_ids

    def _inspect(self, line, **findings):
        action = line.with_user(self.rma_inspector).action_start_inspection()
        inspection = self.env["rma.inspection"].browse(action["res_id"])
        with Form(inspection.with_user(self.rma_inspector)) as form:
            for name, value in findings.items():
                setattr(form, name, value)
        return inspection

    def test_start_inspection_moves_unit_in_inspection(self):
        line = self._received_line("IN-0001")
        self.assertTrue(line.can_be_inspected)
        inspection = self._inspect(line)
        self.assertRecordValues(
            inspection, [{"state": "draft", "technician_id": self.rma_inspector.id, "line_id": line.id}]
        )
        self.assertEqual(line.state, "inspection")
        self.assertEqual(line.rma_id.state, "in_progress")
        status = line.custody_event_ids.sorted("sequence")[-1]
        self.assertRecordValues(
            status, [{"event_type": "status", "note": "Inspection started", "user_id": self.rma_inspector.id}]
        )
        with self.assertRaisesRegex(UserError, "Only received units"):
            line.with_user(self.rma_inspector).action_start_inspection()

    def test_record_findings(self):
        line = self._received_line("IN-0101")
        photo = self.env["ir.attachment"].create({"name": "front.jpg", "raw": b"jpeg"})
        inspection = self._inspect(line, grade_id=self.grade["b"], functional_result="fail", is_data_bearing=True)
        self.assertEqual(inspection.data_security, "wipe", "a data-bearing unit defaults to a wipe")
        inspection.write(
            {"failure_code_ids": [Command.set(self.failure_display.ids)], "photo_ids": [Command.set(photo.ids)]}
        )
        inspection.with_user(self.rma_inspector).action_done()
        self.assertRecordValues(
            inspection,
            [
                {
                    "state": "done",
                    "suggested_disposition_id": self.disposition["rep"].id,
                    "is_restocking_fee_eligible": False,
                }
            ],
        )
        self.assertEqual(line.inspection_id, inspection)
        self.assertEqual(line.grade_id, self.grade["b"])
        event = line.custody_event_ids.sorted("sequence")[-1]
        self.assertEqual(event.event_type, "inspection")
        self.assertIn("Grade B", event.note)
        self.assertIn("DISPLAY", event.note)
        self.assertIn("suggested: REP", event.note)
        with self.assertRaises(UserError):
            inspection.grade_id = self.grade["a"]
        inspection.notes = "<p>Hinge loose as well.</p>"
        with self.assertRaises(UserError):
            inspection.unlink()
        self.assertTrue(self.env["rma.custody.event"]._check_integrity(self.company)["ok"])

    def test_findings_are_required(self):
        line = self._received_line("IN-0201")
        inspection = self._inspect(line)
        with self.assertRaisesRegex(UserError, "cosmetic grade"):
            inspection.with_user(self.rma_inspector).action_done()
        inspection.write({"grade_id": self.grade["a"].id, "functional_result": "fail"})
        with self.assertRaisesRegex(UserError, "failure code"):
            inspection.with_user(self.rma_inspector).action_done()
        inspection.write(
            {
                "functional_result": "pass",
                "is_data_bearing": True,
                "data_security": "none",
            }
        )
        with self.assertRaisesRegex(UserError, "bears data"):
            inspection.with_user(self.rma_inspector).action_done()
        self.assertEqual(inspection.state, "draft")

    def test_suggested_disposition_matrix(self):
        cases = [
            ({"grade_id": "a", "functional_result": "pass"}, "rts"),
            ({"grade_id": "b", "functional_result": "pass"}, "ref"),
            ({"grade_id": "c", "functional_result": "fail", "failure_code_ids": "display"}, "rep"),
            ({"grade_id": "b", "functional_result": "fail", "failure_code_ids": "liquid"}, "ph"),
            ({"grade_id": "d", "functional_result": "fail", "failure_code_ids": "display"}, "rec"),
            ({"grade_id": "salvage", "functional_result": "pass"}, "ph"),
            ({"grade_id": "a", "functional_result": "pass", "data_security": "destroy", "is_data_bearing": True}, "sd"),
            ({"grade_id": "b", "functional_result": "not_testable"}, "rep"),
        ]
        for index, (findings, expected) in enumerate(cases):
            with self.subTest(findings=findings):
                line = self._received_line(f"IN-1{index:03d}")
                values = dict(findings)
                values["grade_id"] = self.grade[values["grade_id"]].id
                if "failure_code_ids" in values:
                    failure = {"display": self.failure_display, "liquid": self.failure_liquid}[
                        values["failure_code_ids"]
                    ]
                    values["failure_code_ids"] = [Command.set(failure.ids)]
                inspection = self._inspect(line)
                inspection.write(values)
                self.assertEqual(inspection.suggested_disposition_id, self.disposition[expected])

    def test_restocking_fee_rule(self):
        not_needed = self.env.ref("rma_recovery.rma_reason_not_needed")
        not_needed.is_proof_required = False
        cases = [
            (not_needed, "a", True, 15.0),
            (not_needed, "c", True, 25.0),
            (self.reason, "a", False, 0.0),
        ]
        for index, (reason, grade, eligible, percent) in enumerate(cases):
            with self.subTest(reason=reason.code, grade=grade):
                line = self._received_line(f"IN-2{index:03d}", reason=reason)
                inspection = self._inspect(line, grade_id=self.grade[grade], functional_result="pass")
                self.assertRecordValues(
                    inspection, [{"is_restocking_fee_eligible": eligible, "restocking_fee_percent": percent}]
                )

    def test_access(self):
        line = self._received_line("IN-3001")
        with self.assertRaises(UserError):
            line.with_user(self.rma_user).action_start_inspection()
        inspection = self._inspect(line, grade_id=self.grade["a"], functional_result="pass")
        with self.assertRaises(AccessError):
            inspection.with_user(self.rma_user).write({"notes": "user notes"})
        with self.assertRaises(AccessError):
            inspection.with_user(self.rma_user).action_done()
        self.assertEqual(inspection.with_user(self.rma_user).grade_id, self.grade["a"], "users can read findings")
        inspection.with_user(self.rma_inspector).action_done()
        self.assertEqual(inspection.state, "done")
