"""The upgrade from the last release, on a database that release built with its demo data (see
prepare_from_release.py and scripts/harness.sh, `make test`): skipped on any other database."""

import json
import os

from odoo import Command
from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install", "rma_upgrade")
class TestUpgradeFromRelease(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        path = os.environ.get("RMA_UPGRADE_RELEASE_SNAPSHOT")
        if not path or not os.path.exists(path):
            cls.skipTest(cls, "not an upgraded database: `make test` builds one with the last release and upgrades it")
        with open(path, encoding="utf-8") as snapshot_file:
            cls.snapshot = json.load(snapshot_file)
        cls.units = {int(unit_id): values for unit_id, values in cls.snapshot["units"].items()}
        cls.lines = cls.env["rma.line"].browse(list(cls.units))

    def test_units_keep_their_history_and_chains_verify(self):
        self.assertTrue(self.units, "the release's demo data has units")
        self.assertEqual(len(self.lines.exists()), len(self.units))
        for line in self.lines:
            before = self.units[line.id]
            with self.subTest(unit=line.display_name):
                self.assertEqual(line.state, before["state"])
                self.assertEqual(line.custody_hash, before["custody_hash"])
                self.assertEqual(sorted(line.account_move_line_ids.ids), before["account_move_line_ids"])
                self.assertEqual(sorted(line.receipt_move_ids.ids), before["move_ids"])
                self.assertAlmostEqual(line.book_value, before["book_value"], places=2)
        for company in self.env["res.company"].browse(self.snapshot["company_ids"]):
            result = self.env["rma.custody.event"]._check_integrity(company)
            self.assertTrue(result["ok"], result.get("message"))

    def test_every_authorized_unit_is_dated(self):
        """Substitutes created before 19.0.1.8.0 had no authorization date: the upgrade dates them."""
        decided = self.lines.filtered(lambda line: line.state not in ("draft", "rejected", "cancel"))
        self.assertTrue(decided)
        self.assertFalse(decided.filtered(lambda line: not line.authorized_date))

    def test_every_rma_opens_in_the_portal(self):
        """RMAs made before 19.0.1.10.0 get the access token the portal and the step mails' links need."""
        rmas = self.lines.rma_id
        self.assertTrue(rmas)
        self.assertFalse(rmas.filtered(lambda rma: not rma.access_token))
        self.assertEqual(len(set(rmas.mapped("access_token"))), len(rmas), "each RMA has its own token")
        self.assertEqual(rmas[0].get_portal_url().split("?")[0], f"/my/returns/{rmas[0].id}")

    def test_authorization_mail_lists_the_authorized_units(self):
        """From 19.0.1.11.0 a job sends the mail a moment after the authorization: the release's template, which
        listed the units still in the state *authorized*, is reset to list the units authorized."""
        body = self.env.ref("rma_recovery.rma_mail_template_authorized").body_html
        self.assertIn("line.authorized_date", body)
        self.assertNotIn("line.state == 'authorized'", body)

    def test_release_history_is_exported_and_checked_by_period(self):
        """From 19.0.1.12.0 the custody history is exported by period (a job) and a period's checklist verifies the
        chains it touched: both work on the release's events, which the upgrade indexed by date."""
        self.env.cr.execute(
            "SELECT 1 FROM pg_indexes WHERE tablename = 'rma_custody_event' AND indexdef LIKE '%(event_date)%'"
        )
        self.assertTrue(self.env.cr.fetchone(), "custody events are indexed by date")
        company = self.lines.company_id[:1]
        events = self.env["rma.custody.event"].search([("company_id", "=", company.id)])
        first, last = min(events.mapped("event_date")).date(), max(events.mapped("event_date")).date()
        export = self.env["rma.custody.export"].create({"company_id": company.id, "date_from": first, "date_to": last})
        export.action_start()
        self.env["rma.custody.export"]._cron_run()
        self.assertEqual((export.state, export.event_count), ("done", len(events)))
        checklist = self.env["rma.audit.checklist"].create(
            {"company_id": company.id, "date_from": first, "date_to": last}
        )
        checklist.action_compute()
        custody = checklist.item_ids.filtered(lambda item: item.name == "Custody chain integrity")
        self.assertEqual(custody.passed, 1, custody.note)
        self.assertTrue(custody.note.startswith(f"{len(events)} events of "), custody.note)

    def test_release_gets_vendor_returns_and_graded_serials(self):
        """From 19.0.1.13.0: purchases are installed with the addon, each company with a chart has its Vendor Claims
        account (an asset, for units shipped to their vendor), and the serials of units the release restocked or
        finished refurbishing carry the condition they are sold again in, with their inspection's grade."""
        purchase = self.env["ir.module.module"].search([("name", "=", "purchase_stock")])
        self.assertEqual(purchase.state, "installed")
        for company in self.env["res.company"].browse(self.snapshot["company_ids"]).filtered("chart_template"):
            with self.subTest(company=company.name):
                claims = company.rma_vendor_claims_account_id
                self.assertEqual(claims.account_type, "asset_current")
        self.assertTrue(self.env.ref("rma_recovery.rma_disposition_rtv").exists())
        restocked = self.lines.filtered(lambda line: line.disposition_treatment == "restock" and line.lot_id)
        finished = self.lines.filtered(
            lambda line: line.disposition_treatment in ("refurbish", "repair") and line.work_finished_date
        )
        self.assertTrue(restocked | finished, "the release's demo restocked or refurbished units")
        # A serial returned more than once takes its last disposition's condition.
        last = {}
        for line in (restocked | finished).sorted(lambda line: (line.disposition_date, line.id)):
            last[line.lot_id] = line
        for line in last.values():
            with self.subTest(unit=line.display_name):
                expected = "new" if line in restocked else "refurbished"
                self.assertEqual(line.lot_id.rma_condition, expected)
                self.assertEqual(line.lot_id.rma_grade_id, line.inspection_id.grade_id)

    def test_the_new_version_disposes_the_release_units(self):
        """Inspected units the release left waiting are disposed by a batch of the new version."""
        waiting = self.lines.filtered("can_be_disposed")
        if not waiting:
            self.skipTest("the release's demo data left no unit waiting for its disposition")
        # The data-security rules apply: a unit to destroy goes SD, one to wipe is recycled, the others restocked.
        code = {
            "destroy": self.env.ref("rma_recovery.rma_disposition_sd"),
            "wipe": self.env.ref("rma_recovery.rma_disposition_rec"),
        }
        rts = self.env.ref("rma_recovery.rma_disposition_rts")
        company = waiting.company_id[:1]
        units = waiting.filtered(lambda unit: unit.company_id == company)
        batch = self.env["rma.disposition.batch"].create(
            {
                "company_id": company.id,
                "line_ids": [
                    Command.create(
                        {"unit_id": unit.id, "disposition_id": code.get(unit.inspection_id.data_security, rts).id}
                    )
                    for unit in units
                ],
            }
        )
        batch.with_user(self.env.ref("base.user_admin")).action_confirm()
        self.assertEqual(batch.state, "done")
        for unit in units:
            expected = "disposition" if unit.inspection_id.data_security == "destroy" else "closed"
            self.assertEqual(unit.state, expected, unit.display_name)
