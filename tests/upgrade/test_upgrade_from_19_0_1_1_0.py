"""The upgrade from 19.0.1.1.0, on a database that version built (see prepare_from_19_0_1_1_0.py and
scripts/harness.sh, `make test`): skipped on any other database."""

import json
import os

from odoo import Command
from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install", "rma_upgrade")
class TestUpgradeFrom19011(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        path = os.environ.get("RMA_UPGRADE_SNAPSHOT")
        if not path or not os.path.exists(path):
            cls.skipTest(cls, "not an upgraded database: `make test` builds one with 19.0.1.1.0 and upgrades it")
        with open(path, encoding="utf-8") as snapshot_file:
            cls.snapshot = json.load(snapshot_file)
        cls.units = {int(unit_id): values for unit_id, values in cls.snapshot["units"].items()}

    def test_units_keep_their_history(self):
        """Every unit keeps its status, the moves and entries it had, and its custody chain's head."""
        lines = self.env["rma.line"].browse(list(self.units))
        self.assertEqual(len(lines.exists()), len(self.units))
        for line in lines:
            before = self.units[line.id]
            with self.subTest(unit=line.display_name):
                self.assertEqual(line.state, before["state"])
                self.assertEqual(line.custody_hash, before["custody_hash"])
                self.assertEqual(sorted(line.account_move_line_ids.ids), before["account_move_line_ids"])
                moves_now = line.receipt_move_ids.filtered(lambda move: move.state == "done")
                self.assertEqual(sorted(moves_now.ids), sorted(before["move_ids"]), "no move added or removed")
        decided = lines.filtered(lambda line: line.state not in ("draft", "rejected", "cancel"))
        self.assertTrue(decided)
        for line in decided:
            self.assertEqual(line.authorized_date, line.rma_id.authorize_date, "the stage dates are filled in")
        closed = lines.filtered(lambda line: line.state == "closed")
        self.assertTrue(closed)
        for line in closed:
            self.assertEqual(line.closed_date, line.disposition_date)
        for rma_id, state in self.snapshot["rma_states"].items():
            self.assertEqual(self.env["rma.order"].browse(int(rma_id)).state, state)
        # The chains still verify end to end.
        for company in lines.company_id:
            report = self.env["rma.custody.event"]._check_integrity(company)
            self.assertTrue(report["ok"], report)

    def test_authorized_rmas_get_their_receipt(self):
        expected = self.env["rma.line"].browse(
            [unit_id for unit_id, values in self.units.items() if values["state"] == "authorized"]
        )
        self.assertTrue(expected, "the 19.0.1.1.0 demo has an RMA authorized and not received")
        for rma, lines in expected.grouped("rma_id").items():
            picking = rma.receipt_picking_ids
            self.assertEqual(len(picking), 1)
            self.assertRecordValues(
                picking,
                [
                    {
                        "state": "assigned",
                        "picking_type_id": rma.warehouse_id.rma_receipt_type_id.id,
                        "location_dest_id": rma.warehouse_id.rma_quarantine_location_id.id,
                        "origin": rma.name,
                    }
                ],
            )
            self.assertEqual(picking.move_ids.rma_line_id, lines)
            for move in picking.move_ids:
                self.assertEqual(move.origin_returned_move_id, move.rma_line_id.delivery_move_id)
                self.assertEqual(move.sale_line_id, move.rma_line_id.delivery_move_id.sale_line_id)
                self.assertTrue(move.to_refund)
        # RMAs whose units all arrived before the upgrade get no receipt.
        received = (
            self.env["rma.order"].browse(
                [
                    int(rma_id)
                    for rma_id, state in self.snapshot["rma_states"].items()
                    if state in ("in_progress", "done")
                ]
            )
            - expected.rma_id
        )
        self.assertFalse(received.receipt_picking_ids)

    def test_confirmed_dispositions_become_batch_documents(self):
        disposed = self.env["rma.line"].browse(self.snapshot["disposed_unit_ids"])
        batch = disposed.disposition_batch_id
        self.assertEqual(len(batch), 1)
        reference = self.units[disposed[0].id]["disposition_batch"]
        self.assertRecordValues(
            batch,
            [{"name": reference, "state": "done", "confirmed_by_id": self.env.ref("base.user_admin").id}],
        )
        self.assertEqual(batch.line_ids.unit_id, disposed)
        for line in batch.line_ids:
            self.assertEqual(line.book_value, self.units[line.unit_id.id]["book_value"])
            self.assertEqual(line.move_id.location_id, line.unit_id.rma_id.warehouse_id.rma_quarantine_location_id)
        self.assertEqual(batch.move_ids, batch.line_ids.move_id)
        self.assertTrue(batch.account_move_ids, "the addon's entry and Odoo's valuation entries")
        self.assertEqual(batch.repair_count, 1, "the REP unit's repair order")
        # The new version works on the upgraded data: the last two inspected units are disposed through a batch.
        rest = self.env["rma.line"].search([("state", "=", "inspection"), ("id", "not in", disposed.ids)])
        self.assertTrue(rest)
        # The data-security rules apply to them: a unit to destroy goes SD, one to wipe is recycled, others restocked.
        code = {
            "destroy": self.env.ref("rma_recovery.rma_disposition_sd"),
            "wipe": self.env.ref("rma_recovery.rma_disposition_rec"),
        }
        rts = self.env.ref("rma_recovery.rma_disposition_rts")
        new_batch = self.env["rma.disposition.batch"].create(
            {
                "company_id": rest.company_id.id,
                "line_ids": [
                    Command.create(
                        {"unit_id": unit.id, "disposition_id": code.get(unit.inspection_id.data_security, rts).id}
                    )
                    for unit in rest
                ],
            }
        )
        new_batch.with_user(self.env.ref("base.user_admin")).action_confirm()
        self.assertEqual(new_batch.state, "done")
        for unit in rest:
            expected = "disposition" if unit.inspection_id.data_security == "destroy" else "closed"
            self.assertEqual(unit.state, expected, unit.display_name)

    def test_remedies_on_upgrade(self):
        """Units ended before remedies existed get none (their RMAs keep their status); open ones a refund to
        confirm; the companies get the warranty account and a reconcilable recovery clearing account."""
        lines = self.env["rma.line"].browse(list(self.units))
        ended = lines.filtered(lambda line: line.state in ("closed", "rejected", "cancel"))
        self.assertTrue(ended)
        self.assertEqual(set(ended.mapped("remedy")), {"none"})
        self.assertEqual(set(ended.mapped("remedy_state")), {"none"})
        self.assertEqual(set((lines - ended).mapped("remedy")), {"refund"})
        for company in lines.company_id.filtered("chart_template"):
            self.assertTrue(company.rma_warranty_account_id)
            recovery = self.env.ref("rma_recovery.rma_disposition_ph")._get_accounts(lines[:1].product_id, company)
            self.assertTrue(recovery["recovery"].reconcile)
        rules = self.env["rma.restocking.rule"].search([("is_fee_eligible", "=", True)])
        self.assertTrue(rules)
        self.assertEqual(rules.fee_product_id, self.env.ref("rma_recovery.rma_product_restocking_fee"))

    def test_destroyed_recycled_harvested_serials_are_blocked(self):
        lines = self.env["rma.line"].browse(list(self.units))
        ended = lines.filtered(lambda line: line.disposition_id.treatment in ("salvage", "destroy") and line.lot_id)
        self.assertTrue(ended)
        self.assertTrue(all(ended.lot_id.mapped("is_rma_blocked")))
        others = (lines - ended).lot_id - ended.lot_id
        self.assertFalse(any(others.mapped("is_rma_blocked")))

    def test_cogs_reversal_recorded_on_upgrade(self):
        """19.0.1.6.0: the receipt entries already posted become the units' COGS reversal records; no received unit
        is left with its COGS reversed other than once."""
        lines = self.env["rma.line"].browse(list(self.units))
        receipt_items = self.env["account.move.line"].search(
            [("rma_line_id", "in", lines.ids), ("name", "=like", "% RECEIPT"), ("credit", ">", 0)]
        )
        cogs_items = receipt_items.filtered(
            lambda item: item.account_id == item.product_id.product_tmpl_id._get_product_accounts()["expense"]
        )
        self.assertTrue(cogs_items, "the 19.0.1.1.0 database has received units in real-time valuation")
        rows = self.env["rma.cogs.reversal"].search([("line_id", "in", lines.ids)])
        self.assertEqual(rows.move_line_id, cogs_items)
        self.assertEqual(set(rows.mapped("kind")), {"receipt"})
        self.assertFalse(
            self.env["rma.line"].search([("id", "in", lines.ids), ("is_cogs_reversal_mismatch", "=", True)])
        )

    def test_rma_journal_secured_by_the_seal(self):
        """19.0.1.8.0: the RMA journal is no longer hashed at posting; the entries the old version hashed stay hashed
        and verify, and the company seal hashes the rest, continuing their chain."""
        journals = self.env["account.journal"].search([("code", "=", "RMAD")])
        self.assertTrue(journals)
        self.assertFalse(any(journals.mapped("restrict_mode_hash_table")))
        entries = self.env["account.move"].search([("journal_id", "in", journals.ids), ("state", "=", "posted")])
        self.assertTrue(entries.filtered("inalterable_hash"), "19.0.1.1.0 hashed its entries at posting")
        self.env["rma.custody.seal"]._seal(journals.company_id)
        self.assertTrue(all(entries.mapped("inalterable_hash")))
        accountant = self.env.ref("base.user_admin")
        accountant.group_ids |= self.env.ref("account.group_account_user")
        for company in entries.company_id & accountant.company_ids:  # Odoo reports journals with hashed entries
            statuses = [
                result["status"]
                for result in company.with_user(accountant)._check_hash_integrity()["results"]
                if result["journal_name"].startswith(journals.filtered(lambda j, c=company: j.company_id == c).name)
            ]
            self.assertEqual(set(statuses), {"verified"}, company.name)
            report = self.env["rma.custody.event"]._check_integrity(company)
            self.assertTrue(report["ok"], report)
