from collections import Counter
from unittest.mock import patch

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged
from odoo.tools import format_datetime

from odoo.addons.rma_recovery.models import rma_custody_check, rma_disposition_batch

from .common import RmaCommon
from .common_disposition import RmaDispositionCommon
from .common_rpc import ACCESS_ERROR, USER_ERROR, RmaRpcCommon

CRON_LOGGER = "odoo.addons.base.models.ir_cron"


class RmaBackgroundJobsMixin:
    """Five inspected units of a new product disposed by one batch (RTS, REF, PH, SD, REF), the same codes and values
    every time, so that a batch confirmed in the background can be compared with one confirmed in the request."""

    CODES = ("RTS", "REF", "PH", "SD", "REF")

    def _five_units(self, prefix):
        return self._inspected_units(self._new_product("fifo"), [f"{prefix}-{index}" for index in range(5)])

    def _batch(self, units, user=None):
        values = {
            "RTS": {},
            "REF": {"net_realizable_value": 300.0, "work_cost": 40.0},
            "PH": {"recovery_value": 35.0},
            "SD": {},
        }
        return (
            self.env["rma.disposition.batch"]
            .with_user(user or self.rma_manager)
            .create(
                {
                    "company_id": self.company.id,
                    "line_ids": [
                        Command.create({"unit_id": unit.id, "disposition_id": self.code[code].id, **values[code]})
                        for unit, code in zip(units, self.CODES, strict=True)
                    ],
                }
            )
        )

    def _run_job(self):
        """The job, as the cron server runs it: its own transaction, each chunk committed (the test's cursor)."""
        with self.enter_registry_test_mode():
            result = self.env.ref("rma_recovery.rma_cron_disposition_batch_confirm").method_direct_trigger()
        self.env.invalidate_all()
        return result


@tagged("post_install", "-at_install")
class TestRmaBackgroundDisposition(RmaBackgroundJobsMixin, RmaDispositionCommon):
    """A disposition batch above the company's threshold is confirmed by a background job, a committed chunk of units
    at a time, with its progress on the batch; a run killed between chunks resumes without doing a unit twice."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cron = cls.env.ref("rma_recovery.rma_cron_disposition_batch_confirm")

    def setUp(self):
        super().setUp()
        self.company.rma_disposition_job_threshold = 3
        self.patch(rma_disposition_batch, "CHUNK_SIZE", 2)

    def _disposition_facts(self, batch):
        """What the confirmation did, independent of how many entries it took: units per state, disposition moves and
        custody events per unit, quantities per location, journal items and balance per account, serials blocked."""
        units = batch.line_ids.unit_id
        moves = self.env["stock.move"].search(
            [("rma_line_id", "in", units.ids), ("location_id", "=", self.quarantine.id), ("state", "=", "done")]
        )
        events = self.env["rma.custody.event"].search(
            [("line_id", "in", units.ids), ("event_type", "=", "disposition")]
        )
        quants = self.env["stock.quant"].search([("lot_id", "in", units.lot_id.ids), ("quantity", "!=", 0)])
        quantities = Counter()
        for quant in quants:
            quantities[quant.location_id.complete_name] += quant.quantity
        items = batch.sudo().account_move_ids.line_ids  # sudo: journal items, read for the comparison
        balances = Counter()
        for item in items:
            balances[item.account_id.code] += item.balance
        return {
            "states": sorted(units.mapped("state")),
            "moves_per_unit": [len(moves.filtered(lambda move, unit=unit: move.rma_line_id == unit)) for unit in units],
            "batch_moves": len(batch.move_ids) == len(moves) and batch.move_ids == moves,
            "events_per_unit": [len(events.filtered(lambda event, unit=unit: event.line_id == unit)) for unit in units],
            "quantities": sorted(quantities.items()),
            "items_per_account": sorted(Counter(items.mapped("account_id.code")).items()),
            "balances": sorted((code, round(balance, 2)) for code, balance in balances.items()),
            "blocked": len(units.lot_id.filtered("is_rma_blocked")),
        }

    def test_at_or_below_the_threshold_confirms_in_the_request(self):
        units = self._five_units("BJ-00")
        self.company.rma_disposition_job_threshold = 5
        batch = self._batch(units)
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", self.cron.id)])
        self.assertIs(batch.with_user(self.rma_manager).action_confirm(), True)
        self.assertRecordValues(batch, [{"state": "done", "confirmed_by_id": self.rma_manager.id, "job_error": False}])
        self.assertTrue(all(batch.line_ids.mapped("is_disposed")))
        self.assertEqual(self.env["ir.cron.trigger"].search([("cron_id", "=", self.cron.id)]), triggers)

    def test_above_the_threshold_the_job_disposes_chunk_by_chunk_and_resumes_after_a_kill(self):
        # The reference: the same units, codes and values confirmed in the request.
        reference = self._batch(self._five_units("BJ-01"))
        self.company.rma_disposition_job_threshold = 500
        reference.with_user(self.rma_manager).action_confirm()
        self.company.rma_disposition_job_threshold = 3

        units = self._five_units("BJ-02")
        batch = self._batch(units)
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", self.cron.id)])
        action = batch.with_user(self.rma_manager).action_confirm()
        self.assertEqual(action["tag"], "display_notification", "the manager gets the answer at once")
        self.assertIn(batch.name, action["params"]["message"])
        self.assertRecordValues(
            batch, [{"state": "queued", "confirmed_by_id": self.rma_manager.id, "disposed_count": 0, "progress": 0.0}]
        )
        self.assertEqual(set(units.mapped("state")), {"inspection"}, "nothing moved in the request")
        self.assertFalse(batch.move_ids)
        self.assertEqual(
            len(self.env["ir.cron.trigger"].search([("cron_id", "=", self.cron.id)]) - triggers), 1, "job woken"
        )
        with self.assertRaisesRegex(UserError, "no longer a draft"):
            batch.line_ids[0].with_user(self.rma_manager).note = "changed while in progress"
        with self.assertRaisesRegex(UserError, "stays"):
            batch.with_user(self.rma_manager).unlink()

        # The first run is killed after its first committed chunk (every later chunk crashes, as a killed worker).
        dispose = type(batch)._dispose_lines
        calls = []

        def killed_after_one_chunk(records, lines):
            calls.append(len(lines))
            if len(calls) > 1:
                raise RuntimeError("worker killed")
            return dispose(records, lines)

        with (
            patch.object(type(batch), "_dispose_lines", killed_after_one_chunk),
            self.assertLogs(CRON_LOGGER, "ERROR"),
        ):
            self.assertEqual(self._run_job()["tag"], "display_exception")
        self.assertEqual(calls, [2, 2, 2], "a chunk committed, then the crash; Odoo runs it again once, crashing")
        self.assertEqual(self.cron.failure_count, 1, "a failed run counts towards Odoo's deactivation")
        self.assertTrue(self.cron.active)
        self.assertRecordValues(batch, [{"state": "queued", "disposed_count": 2, "progress": 40.0}])
        self.assertEqual(batch.line_ids.sorted("id").mapped("is_disposed"), [True, True, False, False, False])
        self.assertEqual(len(batch.move_ids), 2, "the committed chunk's moves only")
        # The form shows done/total and the progress bar.
        form = Form(batch.with_user(self.rma_manager))
        self.assertEqual((form.disposed_count, form.unit_count, form.progress), (2, 5, 40.0))

        # The next run resumes with the units left, and finishes.
        self.assertIs(self._run_job(), True)
        self.assertEqual(self.cron.failure_count, 0)
        self.assertRecordValues(
            batch,
            [
                {
                    "state": "done",
                    "confirmed_by_id": self.rma_manager.id,
                    "disposed_count": 5,
                    "progress": 100.0,
                    "job_error": False,
                }
            ],
        )
        self.assertTrue(batch.confirmed_date)
        self.assertTrue(any("Confirmation finished" in message.body for message in batch.message_ids))
        # Exactly what the confirmation in the request did: one move, one custody event per unit, the same stock per
        # location, the same journal items per account (in three entries of the addon, one per chunk, not one).
        facts, expected = self._disposition_facts(batch), self._disposition_facts(reference)
        self.assertEqual(facts["moves_per_unit"], [1] * 5)
        self.assertEqual(facts["events_per_unit"], [1] * 5)
        self.assertTrue(facts["balances"])
        self.assertEqual(facts, expected)
        self.assertEqual(units.disposition_batch_id, batch)
        self.assertEqual(units.disposition_user_id, self.rma_manager, "disposed as the manager who confirmed")
        rma_messages = units.rma_id.message_ids.filtered(lambda message: batch.name in (message.body or ""))
        self.assertEqual(len(rma_messages), 3, "the RMA's chatter names each chunk's units once")

        # A further run finds nothing to do.
        moves = batch.move_ids
        self.assertIs(self._run_job(), True)
        self.assertEqual(batch.move_ids, moves)

    def test_the_quick_way_above_the_threshold_queues_the_batch_too(self):
        units = self._five_units("BJ-04")
        action = self._dispose(units, self.code["RTS"])
        self.assertEqual(action["tag"], "display_notification", "the wizard closes on the notification")
        batch = self.env["rma.disposition.batch.line"].search([("unit_id", "in", units.ids)]).batch_id
        self.assertRecordValues(batch, [{"state": "queued", "confirmed_by_id": self.rma_manager.id}])
        # Called from code (not by the cron), the job disposes everything in the caller's transaction.
        self.env["rma.disposition.batch"]._cron_confirm_queued()
        self.assertRecordValues(batch, [{"state": "done", "disposed_count": 5}])
        self.assertEqual(set(units.mapped("state")), {"closed"})

    def test_a_chunk_refused_by_a_guard_stops_the_batch_until_a_manager_resumes_it(self):
        units = self._five_units("BJ-03")
        batch = self._batch(units)
        batch.with_user(self.rma_manager).action_confirm()
        # Meanwhile the 4th unit is disposed in another batch: the job's guard refuses that chunk.
        fourth = batch.line_ids.sorted("id")[3]
        self.company.rma_disposition_job_threshold = 500
        self._dispose(fourth.unit_id, self.code["RTS"])
        self.assertIs(self._run_job(), True, "a refusal is the batch's, not the job's failure")
        self.assertEqual(self.cron.failure_count, 0)
        self.assertRecordValues(batch, [{"state": "queued", "disposed_count": 2}])
        self.assertTrue(batch.job_error)
        self.assertTrue(any("Confirmation stopped after 2 of 5 units" in message.body for message in batch.message_ids))
        self.assertTrue(batch.with_user(self.rma_manager).can_be_resumed)
        self.assertFalse(batch.with_user(self.rma_inspector).can_be_resumed)
        with self.assertRaises(AccessError):
            batch.with_user(self.rma_inspector).action_resume()
        with self.assertRaises(UserError):
            batch.with_user(self.rma_manager).action_resume()  # the cause is still there
        self.assertTrue(batch.job_error)

    def test_the_threshold_is_a_number_of_units(self):
        with self.assertRaises(ValidationError):
            self.company.rma_disposition_job_threshold = -1
        settings = self.env["res.config.settings"].with_company(self.company).create({})
        self.assertEqual(settings.rma_disposition_job_threshold, 3)
        self.assertEqual(self.env["res.company"].create({"name": "New depot"}).rma_disposition_job_threshold, 500)


@tagged("post_install", "-at_install")
class TestRmaCustodyCheckJob(RmaCommon):
    """The full integrity check of a company's chains of custody and seals runs as a background job, a committed
    chunk of units at a time, and keeps its result on a record the manager opens."""

    def setUp(self):
        super().setUp()
        self.patch(rma_custody_check, "CHUNK_SIZE", 2)
        self.cron = self.env.ref("rma_recovery.rma_cron_custody_check")

    def _request(self):
        model = self.env["rma.custody.check"].with_user(self.rma_manager).with_company(self.company)
        action = model.action_check_company()
        return self.env["rma.custody.check"].browse(action["res_id"])

    def _run_job(self):
        with self.enter_registry_test_mode():
            result = self.cron.method_direct_trigger()
        self.env.invalidate_all()
        return result

    def test_the_check_runs_in_the_background_resumes_after_a_kill_and_keeps_its_result(self):
        rma = self._received_rma([f"CC-{index:04d}" for index in range(5)])
        self.env["rma.custody.seal"]._seal(self.company)
        expected = self._check()
        self.assertTrue(expected["ok"])
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", self.cron.id)])
        check = self._request()
        self.assertEqual(len(self.env["ir.cron.trigger"].search([("cron_id", "=", self.cron.id)]) - triggers), 1)
        units = self.env["rma.line"].search_count([("company_id", "=", self.company.id)])
        self.assertRecordValues(
            check,
            [{"state": "queued", "requested_by_id": self.rma_manager.id, "unit_total": units, "unit_done": 0}],
        )
        self.assertEqual(self._request(), check, "one check in progress per company")
        # Named for the manager's list: the company and the request's time in the user's time zone, not UTC.
        self.assertEqual(
            check.with_context(tz="America/New_York").display_name,
            f"Custody Check, {self.company.name},"
            f" {format_datetime(self.env, check.requested_date, tz='America/New_York', dt_format='short')}",
        )

        check_integrity = type(self.env["rma.custody.event"])._check_integrity
        calls = []

        def killed_after_one_chunk(events, company, **kwargs):
            calls.append(kwargs)
            if len(calls) > 1:
                raise RuntimeError("worker killed")
            return check_integrity(events, company, **kwargs)

        with (
            patch.object(type(self.env["rma.custody.event"]), "_check_integrity", killed_after_one_chunk),
            self.assertLogs(CRON_LOGGER, "ERROR"),
        ):
            self._run_job()
        self.assertRecordValues(check, [{"state": "queued", "unit_done": 2, "progress": 100.0 * 2 / units}])
        self.assertTrue(check.last_line_id)
        self.assertIs(self._run_job(), True)
        self.assertRecordValues(
            check,
            [
                {
                    "state": "done",
                    "is_ok": True,
                    "unit_done": units,
                    "progress": 100.0,
                    "event_count": expected["event_count"],
                    "chain_count": expected["chain_count"],
                    "broken_line_id": False,
                }
            ],
        )
        self.assertTrue(check.done_date)
        self.assertEqual(check.with_user(self.rma_manager).read(["is_ok"])[0]["is_ok"], True, "the manager opens it")
        self.assertEqual(len(rma.line_ids), 5)

    def test_the_check_names_the_first_broken_unit_and_event(self):
        rma = self._received_rma(["CC-0101", "CC-0102", "CC-0103"])
        self.env["rma.custody.seal"]._seal(self.company)
        tampered = rma.line_ids.sorted("id")[2].custody_event_ids[:1]
        self._sql("UPDATE rma_custody_event SET note = 'rewritten' WHERE id = %s", tampered.id)
        expected = self._check()
        check = self._request()
        self._run_job()
        self.assertRecordValues(
            check,
            [
                {
                    "state": "done",
                    "is_ok": False,
                    "broken_line_id": tampered.line_id.id,
                    "broken_event_id": tampered.id,
                    "message": expected["message"],
                }
            ],
        )

    def test_a_seal_broken_is_found_by_the_last_step(self):
        rma = self._received_rma(["CC-0201", "CC-0202"])
        self.env["rma.custody.seal"]._seal(self.company)
        gone = rma.line_ids[1]
        self._sql("DELETE FROM rma_custody_event WHERE line_id = %s", gone.id)
        self._sql("UPDATE stock_move SET rma_line_id = NULL WHERE rma_line_id = %s", gone.id)
        self._sql("DELETE FROM rma_line WHERE id = %s", gone.id)
        expected = self._check()
        check = self._request()
        self._run_job()
        self.assertRecordValues(check, [{"state": "done", "is_ok": False, "message": expected["message"]}])
        self.assertTrue(check.broken_seal_id)
        self.assertIn(str(gone.id), check.message)


@tagged("post_install", "-at_install")
class TestRmaBackgroundJobsRpc(RmaBackgroundJobsMixin, RmaRpcCommon):
    """Nobody without the rights triggers a background confirmation or writes its progress over JSON-RPC."""

    def test_progress_is_the_servers(self):
        self.company.rma_disposition_job_threshold = 3
        batch = self._batch(self._five_units("BJ-R0"))
        self.assertRefused(self._call(self.rma_inspector, "rma.disposition.batch", "action_confirm", batch.ids))
        self.assertEqual(batch.state, "draft")
        cron = self.env.ref("rma_recovery.rma_cron_disposition_batch_confirm")
        for user in (self.rma_inspector, self.rma_manager):
            with self.subTest(user=user.login):
                self.assertRefused(self._call(user, "ir.cron", "method_direct_trigger", cron.ids))
                self.assertRefused(self._call(user, "rma.disposition.batch", "_cron_confirm_queued"))
                error = ACCESS_ERROR if user == self.rma_inspector else USER_ERROR
                self.assertRefused(self._call(user, "rma.disposition.batch", "action_resume", batch.ids), error)
        self.assertNotIn("error", self._call(self.rma_manager, "rma.disposition.batch", "action_confirm", batch.ids))
        self.assertEqual(batch.state, "queued")
        for user in (self.rma_inspector, self.rma_manager):
            for model, ids, vals in (
                ("rma.disposition.batch", batch.ids, {"state": "done"}),
                ("rma.disposition.batch", batch.ids, {"job_error": "forged"}),
                ("rma.disposition.batch.line", batch.line_ids.ids, {"is_disposed": True}),
            ):
                with self.subTest(user=user.login, vals=vals):
                    self.assertRefused(self._call(user, model, "write", ids, vals))
        self.assertRecordValues(batch, [{"state": "queued", "disposed_count": 0, "job_error": False}])

    def test_custody_check_is_the_managers_and_its_result_the_servers(self):
        self.assertRefused(self._call(self.rma_inspector, "rma.custody.check", "action_check_company"))
        self.assertFalse(self.env["rma.custody.check"].search([]))
        answer = self._call(self.rma_manager, "rma.custody.check", "action_check_company")
        check = self.env["rma.custody.check"].browse(answer["result"]["res_id"])
        self.assertEqual(check.requested_by_id, self.rma_manager)
        for user in (self.rma_inspector, self.rma_manager):
            with self.subTest(user=user.login):
                self.assertRefused(self._call(user, "rma.custody.check", "write", check.ids, {"is_ok": True}))
                self.assertRefused(
                    self._call(user, "rma.custody.check", "create", {"company_id": self.company.id, "is_ok": True})
                )
                self.assertRefused(self._call(user, "rma.custody.check", "_cron_run"))
