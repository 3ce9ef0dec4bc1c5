from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged

from .common import RmaCommon
from .common_rpc import RmaRpcCommon


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

    def test_inspection_only_through_its_actions(self):
        rma = self._authorized_rma(["HD-0301"])
        line = rma.line_ids
        inspector = self.rma_inspector
        with self.assertRaises(AccessError):
            self.env["rma.inspection"].with_user(inspector).create({"line_id": line.id})
        with self.assertRaisesRegex(UserError, "received units"):
            line.with_user(inspector).action_start_inspection()
        self.env["stock.picking"]._rma_receive(line, station="DOCK-1")
        line.with_user(inspector).action_start_inspection()
        inspection = line.inspection_id
        self.assertRecordValues(inspection, [{"technician_id": inspector.id, "state": "draft"}])
        with self.assertRaises(AccessError):
            inspection.with_user(inspector).write({"state": "done"})
        with self.assertRaisesRegex(UserError, "cosmetic grade"):
            inspection.with_user(inspector).action_done()
        self.assertEqual(inspection.state, "draft")


@tagged("post_install", "-at_install")
class TestRmaInspectionRpc(RmaRpcCommon):
    """An inspection over JSON-RPC is finished by the technician who opened it, and disposes of nothing."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_inspector = cls._new_user("rma_inspector_2", "rma_recovery.group_rma_inspector")

    def test_inspector_cannot_finish_for_someone_else_or_dispose(self):
        rma = self._authorized_rma(["RPC-0201", "RPC-0202"])
        self.env["stock.picking"]._rma_receive(rma.line_ids, station="DOCK-1")
        unit, waiting = rma.line_ids
        unit.with_user(self.rma_inspector).action_start_inspection()
        inspection = unit.inspection_id
        inspection.with_user(self.rma_inspector).write({"grade_id": self.grade_a.id, "functional_result": "pass"})
        other = self.other_inspector
        for model, method, args in [
            ("rma.inspection", "action_done", [inspection.ids]),
            ("rma.inspection", "write", [inspection.ids, {"state": "done"}]),
            ("rma.inspection", "write", [inspection.ids, {"technician_id": other.id}]),
            ("rma.inspection", "write", [inspection.ids, {"date": "2020-01-01 00:00:00"}]),
            ("rma.inspection", "write", [inspection.ids, {"lot_id": False}]),
            ("rma.inspection", "create", [{"line_id": waiting.id, "grade_id": self.grade_a.id}]),
        ]:
            with self.subTest(method=method, args=args[1:]):
                self.assertRefused(self._call(other, model, method, *args))
        self.assertRecordValues(inspection, [{"state": "draft", "technician_id": self.rma_inspector.id}])
        self.assertEqual(waiting.inspection_ids.ids, [])
        # The technician who opened it finishes it.
        self.assertNotIn("error", self._call(self.rma_inspector, "rma.inspection", "action_done", inspection.ids))
        self.assertEqual(inspection.state, "done")
        finished = unit.custody_event_ids.filtered(lambda event: event.event_type == "inspection")
        self.assertEqual(finished.user_id, self.rma_inspector)
        # An inspector prepares the disposition (the wizard, a draft batch) but cannot confirm it.
        wizard = self._call(
            other,
            "rma.disposition.wizard",
            "create",
            {"line_ids": [Command.create({"unit_id": unit.id, "disposition_id": self.code["RTS"].id})]},
        )
        self.assertNotIn("error", wizard)
        self.assertRefused(self._call(other, "rma.disposition.wizard", "action_confirm", [wizard["result"]]))
        self.assertEqual(unit.state, "inspection")
        self.assertFalse(self.env["rma.disposition.batch"].search([("line_ids.unit_id", "=", unit.id)]))
