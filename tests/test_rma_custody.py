import threading

import psycopg2

from odoo import SUPERUSER_ID, api, sql_db
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import RmaCommon
from .common_rpc import RmaRpcCommon


@tagged("post_install", "-at_install")
class TestRmaCustody(RmaCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.quarantine = cls.warehouse.rma_quarantine_location_id
        cls.shelf = cls.env["stock.location"].create(
            {
                "name": "Returns shelf",
                "usage": "internal",
                "location_id": cls.warehouse.view_location_id.id,
                "barcode": "SHELF-RMA-1",
            }
        )

    def _event_history(self, count_per_unit=3):
        """Two received units, each with a receipt and ``count_per_unit - 1`` more events."""
        rma = self._received_rma(["CU-0001", "CU-0002"])
        for _index in range(count_per_unit - 1):
            self.env["rma.custody.event"].sudo().create(
                [
                    {"line_id": line.id, "event_type": "scan", "scanned_code": line.serial_number}
                    for line in rma.line_ids
                ]
            )
        return rma

    # ------------------------------------------------------------------
    # The chain
    # ------------------------------------------------------------------
    def test_events_are_chained_per_unit(self):
        rma = self._event_history(3)
        first, second = rma.line_ids
        self.assertEqual(first.custody_event_ids.sorted("sequence").mapped("sequence"), [1, 2, 3])
        events = first.custody_event_ids.sorted("sequence")
        self.assertFalse(events[0].previous_hash)
        self.assertEqual(events[1].previous_hash, events[0].hash)
        self.assertEqual(events[2].previous_hash, events[1].hash)
        self.assertTrue(events[0].hash.startswith("$1$"))
        self.assertRecordValues(first, [{"custody_sequence": 3, "custody_hash": events[2].hash}])
        self.assertEqual(second.custody_sequence, 3)
        self.assertEqual(self._check(), {"ok": True, "event_count": 6, "chain_count": 2, "broken_event_id": False})

    def test_server_sets_who_and_when(self):
        rma = self._received_rma(["CU-0101"])
        event = (
            self.env["rma.custody.event"]
            .sudo()
            .create(
                [
                    {
                        "line_id": rma.line_ids.id,
                        "event_type": "scan",
                        "user_id": self.rma_manager.id,
                        "event_date": "2001-01-01 00:00:00",
                        "sequence": 99,
                        "hash": "forged",
                    }
                ]
            )
        )
        self.assertRecordValues(event, [{"user_id": self.env.uid, "sequence": 2}])
        self.assertNotEqual(event.event_date.year, 2001)
        self.assertNotEqual(event.hash, "forged")
        self.assertTrue(self._check()["ok"])

    def test_append_only_for_everyone(self):
        rma = self._received_rma(["CU-0201"])
        event = rma.line_ids.custody_event_ids
        for env in (self.env, self.env(su=True), self.env(user=self.rma_manager)):
            with self.subTest(user=env.user.login, su=env.su):
                with self.assertRaises(UserError):
                    event.with_env(env).write({"note": "edited"})
                with self.assertRaises(UserError):
                    event.with_env(env).unlink()
        with self.assertRaises(AccessError):
            self.env["rma.custody.event"].with_user(self.rma_manager).create(
                [{"line_id": rma.line_ids.id, "event_type": "scan"}]
            )
        with self.assertRaises(UserError):
            rma.line_ids.write({"custody_sequence": 0})
        self.assertTrue(self._check()["ok"])

    # ------------------------------------------------------------------
    # Tampering in SQL
    # ------------------------------------------------------------------
    def test_tamper_update(self):
        rma = self._event_history(3)
        target = rma.line_ids[1].custody_event_ids.sorted("sequence")[1]
        self._sql("UPDATE rma_custody_event SET note = 'moved elsewhere' WHERE id = %s", target.id)
        result = self._check()
        self.assertFalse(result["ok"])
        self.assertEqual(result["broken_event_id"], target.id)
        self.assertIn("modified", result["message"])

    def test_verify_one_units_chain(self):
        """The unit form's Verify Chain recomputes that unit's chain only: intact, it says so with its event count;
        rewritten, it names the event; another unit's broken chain does not concern it. A user of another company may
        not verify it."""
        rma = self._event_history(3)
        first, second = rma.line_ids
        action = first.with_user(self.rma_user).action_verify_custody()
        self.assertEqual(action["params"]["type"], "success")
        self.assertIn("intact: 3 events verified", action["params"]["message"])
        target = second.custody_event_ids.sorted("sequence")[1]
        self._sql("UPDATE rma_custody_event SET note = 'moved elsewhere' WHERE id = %s", target.id)
        self.assertEqual(first.with_user(self.rma_user).action_verify_custody()["params"]["type"], "success")
        action = second.with_user(self.rma_user).action_verify_custody()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertEqual(action["params"]["message"], f"Event {target.id} was modified after it was recorded.")
        other_company = self.env["res.company"].create({"name": "RMA Verifying Company"})
        outsider = self.env["res.users"].create(
            {
                "name": "Outsider",
                "login": "rma_outsider_verify",
                "company_id": other_company.id,
                "company_ids": [(6, 0, other_company.ids)],
                "group_ids": [(6, 0, self.env.ref("rma_recovery.group_rma_user").ids)],
            }
        )
        with self.assertRaises(AccessError):
            first.with_user(outsider).action_verify_custody()

    def test_tamper_update_timestamp_and_rehash_attempt(self):
        """Editing a field and recomputing that event's hash still breaks the link to the next event."""
        rma = self._event_history(3)
        events = rma.line_ids[0].custody_event_ids.sorted("sequence")
        self._sql(
            "UPDATE rma_custody_event SET event_date = event_date - interval '1 day', hash = 'x' WHERE id = %s",
            events[1].id,
        )
        result = self._check()
        self.assertEqual(result["broken_event_id"], events[1].id)

    def test_tamper_delete_middle(self):
        rma = self._event_history(3)
        events = rma.line_ids[0].custody_event_ids.sorted("sequence")
        self._sql("DELETE FROM rma_custody_event WHERE id = %s", events[1].id)
        result = self._check()
        self.assertFalse(result["ok"])
        self.assertEqual(result["broken_event_id"], events[2].id)

    def test_tamper_delete_last(self):
        rma = self._event_history(3)
        line = rma.line_ids[0]
        last = line.custody_event_ids.sorted("sequence")[-1]
        self._sql("DELETE FROM rma_custody_event WHERE id = %s", last.id)
        result = self._check()
        self.assertFalse(result["ok"])
        self.assertEqual(result["broken_line_id"], line.id)
        self.assertIn("deleted", result["message"])

    def test_tamper_reorder(self):
        rma = self._event_history(3)
        events = rma.line_ids[0].custody_event_ids.sorted("sequence")
        # Swap positions 2 and 3 (through a free position, as the unique constraint requires).
        self._sql("UPDATE rma_custody_event SET sequence = 99 WHERE id = %s", events[1].id)
        self._sql("UPDATE rma_custody_event SET sequence = 2 WHERE id = %s", events[2].id)
        self._sql("UPDATE rma_custody_event SET sequence = 3 WHERE id = %s", events[1].id)
        result = self._check()
        self.assertFalse(result["ok"])
        self.assertEqual(result["broken_event_id"], events[2].id, "the event now in second position")

    def test_tamper_delete_whole_unit_history(self):
        rma = self._event_history(2)
        line = rma.line_ids[1]
        self._sql("DELETE FROM rma_custody_event WHERE line_id = %s", line.id)
        result = self._check()
        self.assertFalse(result["ok"])
        self.assertEqual(result["broken_line_id"], line.id)
        # Even with the head reset too, a received unit without history is caught.
        self._sql("UPDATE rma_line SET custody_sequence = 0, custody_hash = NULL WHERE id = %s", line.id)
        result = self._check()
        self.assertFalse(result["ok"])
        self.assertEqual(result["broken_line_id"], line.id)

    def test_integrity_report(self):
        rma = self._event_history(2)
        report = self.env.ref("rma_recovery.action_report_custody_integrity")
        html = report._render_qweb_html(report.report_name, self.company.ids)[0].decode()
        self.assertIn("o_rma_integrity_ok", html)
        target = rma.line_ids[0].custody_event_ids[0]
        self._sql("UPDATE rma_custody_event SET station = 'X' WHERE id = %s", target.id)
        html = report._render_qweb_html(report.report_name, self.company.ids)[0].decode()
        self.assertIn("o_rma_integrity_broken", html)
        self.assertIn(f"#{target.id}", html)
        self.company.external_report_layout_id = self.env.ref("web.external_layout_standard")
        action = self.env["res.config.settings"].create({}).action_rma_custody_integrity_report()
        self.assertEqual(action["report_name"], "rma_recovery.report_custody_integrity")
        self.assertEqual(action["context"]["active_ids"], self.company.ids)

    def test_integrity_is_per_company(self):
        self._event_history(1)
        other_company = self.env["res.company"].create({"name": "RMA Quiet Company"})
        self.assertEqual(
            self.env["rma.custody.event"]._check_integrity(other_company)["event_count"], 0, "nothing leaks across"
        )

    # ------------------------------------------------------------------
    # Custody scan at handoffs
    # ------------------------------------------------------------------
    def test_custody_scan_moves_the_unit(self):
        rma = self._received_rma(["CU-0301"])
        line = rma.line_ids
        scan = self.env["rma.scan"].with_user(self.rma_user)
        answer = scan.custody_scan("CU-0301", station="BENCH-2")
        self.assertEqual(answer["line"]["id"], line.id)
        answer = scan.custody_scan("SHELF-RMA-1", line_id=line.id, station="BENCH-2")
        self.assertEqual(answer["level"], "success")
        self.assertEqual(line.location_id, self.shelf)
        quants = self.env["stock.quant"].search([("lot_id", "=", line.lot_id.id), ("quantity", ">", 0)])
        self.assertEqual(quants.location_id, self.shelf)
        events = line.custody_event_ids.sorted("sequence")
        self.assertRecordValues(
            events,
            [
                {
                    "event_type": "receipt",
                    "location_id": self.customer_location.id,
                    "location_dest_id": self.quarantine.id,
                    "scanned_code": "CU-0301",
                    "station": "DOCK-1",
                },
                {
                    "event_type": "scan",
                    "location_id": self.quarantine.id,
                    "location_dest_id": False,
                    "scanned_code": "CU-0301",
                    "station": "BENCH-2",
                },
                {
                    "event_type": "move",
                    "location_id": self.quarantine.id,
                    "location_dest_id": self.shelf.id,
                    "scanned_code": "SHELF-RMA-1",
                    "station": "BENCH-2",
                },
            ],
        )
        self.assertEqual(events[1:].user_id, self.rma_user)
        move = line.receipt_move_ids.filtered(lambda move: move.location_dest_id == self.shelf)
        self.assertRecordValues(move, [{"state": "done", "reference": rma.name, "location_id": self.quarantine.id}])
        self.assertTrue(self._check()["ok"])

    def test_custody_scan_errors(self):
        rma = self._received_rma(["CU-0401"])
        scan = self.env["rma.scan"]
        events_before = self.env["rma.custody.event"].search_count([])
        with self.assertRaisesRegex(UserError, "scan a unit first"):
            scan.custody_scan("SHELF-RMA-1")
        with self.assertRaisesRegex(UserError, "neither a unit nor a location"):
            scan.custody_scan("NOWHERE", line_id=rma.line_ids.id)
        destruction = self.warehouse.rma_destruction_location_id
        with self.assertRaisesRegex(UserError, "disposition wizard"):
            scan.custody_scan(destruction.barcode, line_id=rma.line_ids.id)
        self.assertEqual(self.env["rma.custody.event"].search_count([]), events_before)
        not_received = self._authorized_rma(["CU-0402"])
        with self.assertRaisesRegex(UserError, "scan a unit first"):
            scan.custody_scan("CU-0402")
        self.assertEqual(not_received.line_ids.custody_sequence, 0)

    def test_custody_history_on_serial(self):
        rma = self._received_rma(["CU-0501"])
        lot = rma.line_ids.lot_id
        self.assertEqual(lot.rma_custody_event_count, 1)
        action = lot.action_view_rma_custody_events()
        self.assertEqual(action["res_model"], "rma.custody.event")
        self.assertEqual(rma.custody_event_count, 1)

    def test_events_visible_per_company(self):
        rma = self._received_rma(["CU-0601"])
        other_company = self.env["res.company"].create({"name": "RMA Curious Company"})
        curious = self.env["res.users"].create(
            {
                "name": "Curious",
                "login": "rma_curious",
                "company_id": other_company.id,
                "company_ids": [(6, 0, other_company.ids)],
                "group_ids": [(6, 0, self.env.ref("rma_recovery.group_rma_manager").ids)],
            }
        )
        self.assertFalse(
            self.env["rma.custody.event"].with_user(curious).search([("rma_id", "=", rma.id)]),
        )
        self.assertEqual(
            self.env["rma.custody.event"].with_user(self.rma_user).search([("rma_id", "=", rma.id)]),
            rma.line_ids.custody_event_ids,
        )

    def test_ambiguous_unit_code_is_refused(self):
        """Custody Scan: a serial on two units in our custody (two products) names both instead of taking one."""
        desktop = self._create_product("Test Desktop", tracking="serial")
        first = self._authorized_rma(["AM-0101"])
        self._deliver(self.customer, desktop, ["AM-0101"])
        second = self._create_rma([(desktop, "AM-0101")])
        second.action_authorize()
        self._scan(first.name, "AM-0101")
        self._scan(second.name, "AM-0101")
        with self.assertRaisesRegex(UserError, "matches several units"):
            self.env["rma.scan"].custody_scan("AM-0101")

    def test_custody_scan_respects_the_units_status(self):
        shelf = self.env["stock.location"].create(
            {"name": "Bench shelf", "location_id": self.warehouse.view_location_id.id, "barcode": "HD-SHELF"}
        )
        self.stock_location.barcode = self.stock_location.barcode or "HD-STOCK"
        graded = self.warehouse.rma_graded_location_id
        rma = self._authorized_rma(["CS-0001"])
        self._scan(rma.name, "CS-0001")
        line = rma.line_ids
        scan = self.env["rma.scan"]
        for location in (self.stock_location, graded):
            with self.subTest(location=location.name):
                scan.custody_scan("CS-0001")
                with self.assertRaisesRegex(UserError, "only through its disposition"):
                    scan.custody_scan(location.barcode, line_id=line.id)
        self.assertEqual(line.location_id, self.warehouse.rma_quarantine_location_id)
        scan.custody_scan("CS-0001")
        scan.custody_scan(shelf.barcode, line_id=line.id)
        self.assertEqual(line.location_id, shelf)


@tagged("post_install", "-at_install")
class TestRmaCustodyConcurrency(RmaCommon):
    """Events of different units are recorded concurrently; the same unit waits for its lock."""

    def test_different_units_do_not_wait(self):
        db_name = self.env.cr.dbname
        # Committed data is needed for other transactions to see the units.
        with sql_db.db_connect(db_name).cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            partner = env["res.partner"].create({"name": "Concurrency customer"})
            reason = env["rma.reason"].create({"name": "Concurrency", "code": "CONC", "is_proof_required": False})
            product = env["product.product"].create({"name": "Concurrency cable", "is_storable": True})
            rma = env["rma.order"].create(
                {
                    "partner_id": partner.id,
                    "reason_id": reason.id,
                    "line_ids": [(0, 0, {"product_id": product.id, "quantity": 1}) for _index in range(2)],
                }
            )
            line_a, line_b = rma.line_ids.ids
            ids = {"partner": partner.id, "reason": reason.id, "product": product.id, "rma": rma.id}
            # Committed, so that the other transactions see the units.
            cr.commit()  # pylint: disable=invalid-commit
        try:
            holder_ready, release = threading.Event(), threading.Event()
            outcome = {}

            def hold_unit_a():
                with sql_db.db_connect(db_name).cursor() as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    env["rma.custody.event"].create([{"line_id": line_a, "event_type": "scan"}])
                    holder_ready.set()
                    release.wait(10)
                    cr.rollback()

            holder = threading.Thread(target=hold_unit_a)
            holder.start()
            self.assertTrue(holder_ready.wait(10))
            try:
                with sql_db.db_connect(db_name).cursor() as cr:
                    cr.execute("SET LOCAL lock_timeout = '2s'")
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    event = env["rma.custody.event"].create([{"line_id": line_b, "event_type": "scan"}])
                    outcome["other_unit_sequence"] = event.sequence
                    with self.assertRaises(psycopg2.errors.LockNotAvailable):
                        env["rma.custody.event"].create([{"line_id": line_a, "event_type": "scan"}])
                    cr.rollback()
            finally:
                release.set()
                holder.join(10)
            self.assertEqual(outcome["other_unit_sequence"], 1, "unit B was logged while unit A was locked")
        finally:
            with sql_db.db_connect(db_name).cursor() as cr:
                cr.execute("DELETE FROM rma_custody_event WHERE rma_id = %s", (ids["rma"],))
                cr.execute("DELETE FROM rma_line WHERE rma_id = %s", (ids["rma"],))
                cr.execute("DELETE FROM rma_order WHERE id = %s", (ids["rma"],))
                env = api.Environment(cr, SUPERUSER_ID, {})
                env["product.product"].browse(ids["product"]).product_tmpl_id.unlink()
                env["rma.reason"].browse(ids["reason"]).unlink()
                env["res.partner"].browse(ids["partner"]).unlink()
                cr.commit()  # pylint: disable=invalid-commit


@tagged("post_install", "-at_install")
class TestRmaCustodyRpc(RmaRpcCommon):
    """The custody integrity report over HTTP: for the managers of the company only."""

    def test_integrity_report_for_managers_of_the_company(self):
        url = f"/report/html/rma_recovery.report_custody_integrity/{self.company.id}"
        portal = new_test_user(self.env, login="rma_portal", groups="base.group_portal")
        for user in (portal, self.rma_user, self.rma_inspector):
            with self.subTest(user=user.login):
                self.authenticate(user.login, user.login)
                response = self.url_open(url)
                self.assertNotEqual(response.status_code, 200)
        self.authenticate(self.rma_manager.login, self.rma_manager.login)
        self.assertEqual(self.url_open(url).status_code, 200)
        foreign = self.env["res.company"].create({"name": "RPC Foreign Company"})
        response = self.url_open(f"/report/html/rma_recovery.report_custody_integrity/{foreign.id}")
        self.assertNotEqual(response.status_code, 200)
