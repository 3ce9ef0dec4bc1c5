import json
from collections import Counter
from datetime import date, datetime
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged

from odoo.addons.rma_recovery.models import rma_custody_export

from .common import RmaCommon, load_tool
from .common_rpc import RmaRpcCommon

CRON_LOGGER = "odoo.addons.base.models.ir_cron"


class RmaCustodyExportMixin:
    def _today(self):
        """Today for the manager, whose time zone sets the period's bounds."""
        return fields.Date.context_today(self.env["rma.custody.export"].with_user(self.rma_manager))

    def _export(self, date_from, date_to, user=None):
        return (
            self.env["rma.custody.export"]
            .with_user(user or self.rma_manager)
            .with_company(self.company)
            .create({"company_id": self.company.id, "date_from": date_from, "date_to": date_to})
        )


@tagged("post_install", "-at_install")
class TestRmaCustodyExportJob(RmaCustodyExportMixin, RmaCommon):
    """The custody export of a period runs as a background job, a committed chunk of units at a time into part
    files, and ends as one file that the standalone verifier checks: the whole chains of the units with an event in
    the period, and the company's seals."""

    def setUp(self):
        super().setUp()
        self.patch(rma_custody_export, "CHUNK_SIZE", 2)
        self.cron = self.env.ref("rma_recovery.rma_cron_custody_export")
        self.event_model = type(self.env["rma.custody.event"])

    def _run_job(self):
        with self.enter_registry_test_mode():
            result = self.cron.method_direct_trigger()
        self.env.invalidate_all()
        return result

    def _parts(self, export):
        return self.env["ir.attachment"].search(
            [("res_model", "=", export._name), ("res_id", "=", export.id), ("id", "!=", export.attachment_id.id)]
        )

    def test_the_export_runs_in_chunks_resumes_after_a_kill_and_verifies(self):
        rma = self._received_rma([f"CE-{index:04d}" for index in range(5)])
        self.env["rma.custody.seal"]._seal(self.company)
        self.env["rma.custody.event"].sudo().create({"line_id": rma.line_ids[0].id, "event_type": "scan"})
        events = rma.line_ids.custody_event_ids
        today = self._today()
        export = self._export(today, today)
        self.assertEqual(export.state, "draft")
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", self.cron.id)])
        self.assertIs(export.with_user(self.rma_manager).action_start(), True)
        self.assertEqual(len(self.env["ir.cron.trigger"].search([("cron_id", "=", self.cron.id)]) - triggers), 1)
        self.assertRecordValues(
            export, [{"state": "queued", "requested_by_id": self.rma_manager.id, "unit_total": 5, "unit_done": 0}]
        )
        with self.assertRaisesRegex(UserError, "keeps its period"):
            export.with_user(self.rma_manager).date_from = date(2000, 1, 1)
        with self.assertRaisesRegex(UserError, "in progress"):
            export.with_user(self.rma_manager).unlink()
        with self.assertRaisesRegex(UserError, "already started"):
            export.with_user(self.rma_manager).action_start()

        # The first run is killed after its first committed chunk (every later chunk crashes, as a killed worker).
        export_lines = self.event_model._export_event_lines
        calls = []

        def killed_after_one_chunk(model, condition):
            calls.append(condition)
            if len(calls) > 1:
                raise RuntimeError("worker killed")
            return export_lines(model, condition)

        with (
            patch.object(self.event_model, "_export_event_lines", killed_after_one_chunk),
            self.assertLogs(CRON_LOGGER, "ERROR"),
        ):
            self.assertEqual(self._run_job()["tag"], "display_exception")
        self.assertEqual(len(calls), 3, "a chunk committed, then the crash; Odoo runs it again once, crashing")
        self.assertRecordValues(
            export, [{"state": "queued", "unit_done": 2, "part_count": 1, "progress": 40.0, "failure_count": 2}]
        )
        self.assertEqual(len(self._parts(export)), 1, "the committed chunk's part only")
        self.assertFalse(export.attachment_id)
        form = Form(export.with_user(self.rma_manager))
        self.assertEqual((form.unit_done, form.unit_total, form.progress), (2, 5, 40.0))

        # Events recorded after the start are not in the file: the chains are exported as they were then.
        self.env["rma.custody.event"].sudo().create(
            [{"line_id": unit.id, "event_type": "scan", "note": "after the start"} for unit in rma.line_ids]
        )

        # The next run resumes with the units left, and assembles the file.
        self.assertIs(self._run_job(), True)
        self.assertRecordValues(
            export,
            [
                {
                    "state": "done",
                    "unit_done": 5,
                    "part_count": 3,
                    "progress": 100.0,
                    "event_count": len(events),
                    "failure_count": 0,
                    "message": False,
                }
            ],
        )
        self.assertTrue(export.done_date)
        self.assertFalse(self._parts(export), "the parts are deleted once assembled")
        content = export.attachment_id.raw.decode()
        self.assertEqual(content, events._export_jsonl(), "the same file as the export of the same events")
        lines = content.splitlines()
        ids = Counter(json.loads(text)["id"] for text in lines if '"type":"event"' in text)
        self.assertEqual(sorted(ids), sorted(events.ids))
        self.assertEqual(set(ids.values()), {1}, "each event exactly once")
        self.assertEqual(sum('"type":"seal"' in text for text in lines), 1)
        ok, message, count = load_tool("verify_custody.py").verify(lines)
        self.assertTrue(ok, message)
        self.assertEqual(count, len(events))

        # The manager downloads it; a further run finds nothing to do.
        action = export.with_user(self.rma_manager).action_download()
        self.assertEqual(action["url"], f"/web/content/{export.attachment_id.id}?download=true")
        self.assertEqual(export.attachment_id.with_user(self.rma_manager).raw, content.encode())
        self.assertIs(self._run_job(), True)
        self.assertEqual(export.attachment_id.raw.decode(), content)

    def test_the_units_of_the_period_are_exported_with_their_whole_chains(self):
        rma = self._received_rma(["CE-0101", "CE-0102", "CE-0103"])
        unit = rma.line_ids.sorted("id")[1]
        # A scan recorded on 15 January 2025 (the events before and after it are today's).
        with patch.object(fields.Datetime, "now", return_value=datetime(2025, 1, 15, 12, 0)):
            self.env["rma.custody.event"].sudo().create({"line_id": unit.id, "event_type": "scan"})
        self.env["rma.custody.event"].sudo().create({"line_id": unit.id, "event_type": "scan", "note": "later"})
        export = self._export(date(2025, 1, 1), date(2025, 1, 31))
        export.with_user(self.rma_manager).action_start()
        self.assertEqual(export.unit_total, 1)
        self.env["rma.custody.export"]._cron_run()  # called from code: in the caller's transaction
        self.assertRecordValues(export, [{"state": "done", "unit_done": 1, "event_count": len(unit.custody_event_ids)}])
        content = export.attachment_id.raw.decode()
        self.assertEqual(content, unit.custody_event_ids._export_jsonl())
        self.assertTrue(load_tool("verify_custody.py").verify(content.splitlines())[0])

    def test_a_period_without_event_is_done_at_once_without_file(self):
        self._received_rma(["CE-0201"])
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", self.cron.id)])
        export = self._export(date(2000, 1, 1), date(2000, 12, 31))
        export.with_user(self.rma_manager).action_start()
        self.assertRecordValues(export, [{"state": "done", "unit_total": 0, "unit_done": 0, "attachment_id": False}])
        self.assertIn("No custody event was recorded in this period", export.message)
        self.assertEqual(self.env["ir.cron.trigger"].search([("cron_id", "=", self.cron.id)]), triggers)
        with self.assertRaisesRegex(UserError, "no file"):
            export.with_user(self.rma_manager).action_download()
        with self.assertRaises(ValidationError):
            self._export(date(2000, 2, 1), date(2000, 1, 31))

    def test_a_chunk_that_always_fails_stops_the_export(self):
        self._received_rma(["CE-0301", "CE-0302"])
        today = self._today()
        export = self._export(today, today)
        export.with_user(self.rma_manager).action_start()

        def broken(model, condition):
            raise RuntimeError("disk full")

        with patch.object(self.event_model, "_export_event_lines", broken):
            for attempt in range(1, rma_custody_export.MAX_ATTEMPTS + 1):
                with self.assertLogs(CRON_LOGGER, "ERROR"):
                    self._run_job()
                self.assertEqual(export.failure_count, attempt)
        self.assertEqual(export.state, "failed")
        self.assertIn("disk full", export.message)
        self.assertIs(self._run_job(), True, "a failed export is left alone")
        self.assertEqual(self.cron.failure_count, 0)
        self.assertRecordValues(export, [{"state": "failed", "unit_done": 0, "attachment_id": False}])

    def test_only_managers_of_the_company_see_exports_started_from_settings(self):
        today = self._today()
        with self.assertRaises(AccessError):
            self._export(today, today, user=self.rma_inspector)
        export = self._export(today, today)
        other = self._create_company(name="Other Depot")
        other_manager = self._new_user("rma_manager_other", "rma_recovery.group_rma_manager", company=other)
        self.assertFalse(self.env["rma.custody.export"].with_user(other_manager).search([("id", "=", export.id)]))
        # Settings > Export a Period opens a new export of the company.
        action = self.env["res.config.settings"].with_company(self.company).create({}).action_rma_custody_export()
        self.assertEqual((action["res_model"], action["views"]), ("rma.custody.export", [(False, "form")]))
        self.assertEqual(action["context"], {"default_company_id": self.company.id})


@tagged("post_install", "-at_install")
class TestRmaCustodyExportRpc(RmaCustodyExportMixin, RmaRpcCommon):
    """Nobody but a Returns Manager creates or starts a custody export, and its progress and file are the server's."""

    def test_custody_export_is_the_managers_and_its_result_the_servers(self):
        period = {"company_id": self.company.id, "date_from": "2026-01-01", "date_to": "2026-01-31"}
        self.assertRefused(self._call(self.rma_inspector, "rma.custody.export", "create", period))
        self.assertFalse(self.env["rma.custody.export"].search([]))
        answer = self._call(self.rma_manager, "rma.custody.export", "create", period)
        export = self.env["rma.custody.export"].browse(answer["result"])
        self.assertEqual(export.state, "draft")
        self.assertRefused(self._call(self.rma_inspector, "rma.custody.export", "action_start", export.ids))
        self.assertEqual(export.state, "draft")
        for user in (self.rma_inspector, self.rma_manager):
            with self.subTest(user=user.login):
                self.assertRefused(self._call(user, "rma.custody.export", "write", export.ids, {"state": "done"}))
                self.assertRefused(
                    self._call(user, "rma.custody.export", "create", {**period, "unit_done": 5, "state": "queued"})
                )
                self.assertRefused(self._call(user, "rma.custody.export", "_cron_run"))
        self.assertNotIn("error", self._call(self.rma_manager, "rma.custody.export", "action_start", export.ids))
        self.assertRecordValues(export, [{"state": "done", "unit_total": 0, "requested_by_id": self.rma_manager.id}])
