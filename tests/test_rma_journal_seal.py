from odoo.tests import tagged

from .common_accounting import RmaAccountingCommon


@tagged("post_install", "-at_install")
class TestRmaJournalSeal(RmaAccountingCommon):
    """The RMA Dispositions journal is not hashed at posting (concurrent postings would conflict on its hash chain):
    the company seal secures its posted entries with Odoo's Secure Entries mechanism and anchors what Odoo's hash
    leaves out (the journal's last entry, each item's unit and balance)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.journal = cls.company._get_rma_journal()
        cls.accountant = cls._new_user("rma_seal_accountant", "account.group_account_user")

    def _receive(self, *serials):
        """Each serial delivered, returned and scanned in on its own RMA: one receipt entry each."""
        self._purchase(self.laptop, list(serials), 500.0)
        self._deliver(self.customer, self.laptop, list(serials), from_stock=True)
        units = self.env["rma.line"]
        for serial in serials:
            rma = self._create_rma([(self.laptop, serial)])
            rma.action_authorize()
            self._scan(rma.name, serial)
            units |= rma.line_ids
        return units

    def _entries(self):
        return self.env["account.move"].search(
            [("journal_id", "=", self.journal.id), ("state", "=", "posted")], order="sequence_number"
        )

    def _odoo_report(self):
        """The statuses of Odoo's own hash integrity report for the RMA journal."""
        results = self.company.with_user(self.accountant)._check_hash_integrity()["results"]
        return [result["status"] for result in results if result["journal_name"].startswith(self.journal.name)]

    def test_the_seal_secures_every_entry_and_anchors_the_journal(self):
        self.assertFalse(self.journal.restrict_mode_hash_table, "not hashed at posting")
        units = self._receive("JS-0001", "JS-0002")
        entries = self._entries()
        self.assertEqual(len(entries), 2)
        self.assertFalse(entries.filtered("inalterable_hash"), "posted without hash: nothing to conflict on")
        seal = self.env["rma.custody.seal"]._seal(self.company)
        self.assertTrue(all(entries.mapped("inalterable_hash")), "every entry hashed by the end of the seal run")
        self.assertEqual(seal.journal_item_count, len(entries.line_ids))
        self.assertIn(entries[-1].inalterable_hash, seal.journal_anchor)
        self.assertEqual(set(entries.line_ids.rma_line_id), set(units))
        self.assertEqual(self._odoo_report(), ["verified"])
        self.assertTrue(self._check()["ok"], self._check())

        # A Returns Manager seals on demand (no accounting rights needed); the chain continues.
        self._receive("JS-0003")
        entries = self._entries()
        self.assertFalse(entries[-1].inalterable_hash)
        self.env["rma.custody.seal"].with_user(self.rma_manager).action_seal_now()
        second = self.env["rma.custody.seal"].search([("company_id", "=", self.company.id)], limit=1)
        self.assertEqual(second.sequence, seal.sequence + 1)
        self.assertTrue(all(entries.mapped("inalterable_hash")))
        self.assertEqual(second.journal_item_count, len(entries[-1].line_ids), "only what was hashed since")
        self.assertEqual(self._odoo_report(), ["verified"])
        self.assertTrue(self._check()["ok"], self._check())

    def test_the_last_entries_deleted_are_named(self):
        self._receive("JS-0101", "JS-0102")
        self.env["rma.custody.seal"]._seal(self.company)
        last = self._entries()[-1]
        name = last.name
        self._sql("DELETE FROM account_move_line WHERE move_id = %s", last.id)
        self._sql("DELETE FROM account_move WHERE id = %s", last.id)
        self.assertEqual(self._odoo_report(), ["verified"], "Odoo's hash chain has no end anchor")
        result = self._check()
        self.assertFalse(result["ok"])
        self.assertIn(name, result["message"])
        self.assertIn("last entries were deleted", result["message"])

    def test_a_journal_item_relinked_to_another_unit_is_named(self):
        units = self._receive("JS-0201", "JS-0202")
        self.env["rma.custody.seal"]._seal(self.company)
        item = units[0].account_move_line_ids[0]
        self._sql("UPDATE account_move_line SET rma_line_id = %s WHERE id = %s", units[1].id, item.id)
        self.assertEqual(self._odoo_report(), ["verified"], "Odoo does not hash the unit link")
        result = self._check()
        self.assertFalse(result["ok"])
        self.assertEqual(result["broken_line_id"], units[0].id)
        self.assertIn(f"Journal item {item.id} ", result["message"])
        self.assertIn("re-linked to another unit", result["message"])

    def test_a_balance_changed_alone_is_named(self):
        units = self._receive("JS-0301")
        self.env["rma.custody.seal"]._seal(self.company)
        item = units.account_move_line_ids.filtered("debit")
        self._sql("UPDATE account_move_line SET balance = balance + 100 WHERE id = %s", item.id)
        self.assertEqual(self._odoo_report(), ["verified"], "Odoo hashes debit and credit, not the balance")
        result = self._check()
        self.assertFalse(result["ok"])
        self.assertEqual(result["broken_line_id"], units.id)
        self.assertIn(f"Journal item {item.id} ", result["message"])
        self.assertIn("balance was changed", result["message"])
