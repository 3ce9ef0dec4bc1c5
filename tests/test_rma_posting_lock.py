from contextlib import closing

from odoo import SUPERUSER_ID, Command, api, sql_db
from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from odoo.addons.rma_recovery.models.rma_posting_lock import LOCK_NAMESPACE, serialize_rma_postings


@tagged("post_install", "-at_install")
class TestRmaPostingLock(TransactionCase):
    """Two transactions posting in the hash-restricted RMA journal, as two scanners' requests do: real cursors on
    the database (committed, then removed again), not the test's own transaction.

    A transaction whose snapshot predates another's posting cannot post after it (Odoo finds a gap in the journal's
    sequence); serialize_rma_postings, called first as the addon's actions do, queues it and gives it a fresh
    snapshot, so it posts and hashes right after the other."""

    def setUp(self):
        super().setUp()
        self.db_name = self.env.cr.dbname
        with closing(sql_db.db_connect(self.db_name).cursor()) as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env["res.company"].search([("chart_template", "!=", False)], order="id", limit=1)
            if not company or not env["account.journal"].search_count([("code", "=", "RMAD")]):
                self.skipTest("the database has no company with a chart of accounts")
            self.company_id = company.id
        self.entry_ids = []

    def tearDown(self):
        # Remove the committed entries again (the newest of the journal: what remains still verifies).
        with closing(sql_db.db_connect(self.db_name).cursor()) as cr:
            cr.execute("DELETE FROM account_move_line WHERE move_id = ANY(%s)", [self.entry_ids])
            cr.execute("DELETE FROM account_move WHERE id = ANY(%s)", [self.entry_ids])
            cr.commit()  # pylint: disable=invalid-commit
        super().tearDown()

    def _env(self, cr):
        return api.Environment(cr, SUPERUSER_ID, {"allowed_company_ids": [self.company_id]})

    def _post(self, env, label):
        """One small balanced entry in the company's RMA journal, posted (hashed at posting)."""
        company = env["res.company"].browse(self.company_id)
        accounts = env["account.account"].search(
            [*env["account.account"]._check_company_domain(company), ("account_type", "=", "expense")],
            order="code",
            limit=2,
        )
        entry = env["account.move"].create(
            {
                "move_type": "entry",
                "journal_id": company._get_rma_journal().id,
                "company_id": company.id,
                "line_ids": [
                    Command.create({"name": label, "account_id": accounts[0].id, "debit": 1.0}),
                    Command.create({"name": label, "account_id": accounts[-1].id, "credit": 1.0}),
                ],
            }
        )
        self.entry_ids.append(entry.id)
        entry._post()
        return entry

    def _started_transaction(self):
        """A cursor whose transaction has read something: its snapshot is taken now, after a first hashed entry
        (Odoo checks the sequence from the last hashed entry it sees)."""
        with closing(sql_db.db_connect(self.db_name).cursor()) as cr:
            self._post(self._env(cr), "RMA lock test: before")
            cr.commit()  # pylint: disable=invalid-commit
        cr = sql_db.db_connect(self.db_name).cursor()
        cr.execute("SELECT 1")
        return cr

    def test_stale_snapshot_fails_without_the_queue(self):
        """The failure the queue prevents: what scanners saw before it."""
        with closing(self._started_transaction()) as late:
            with closing(sql_db.db_connect(self.db_name).cursor()) as first:
                self._post(self._env(first), "RMA lock test: first")
                first.commit()
            with mute_logger("odoo.sql_db"), self.assertRaisesRegex(UserError, "gap"):
                self._post(self._env(late), "RMA lock test: late")
            late.rollback()

    def test_queue_gives_a_fresh_snapshot(self):
        with closing(self._started_transaction()) as late:
            with closing(sql_db.db_connect(self.db_name).cursor()) as first:
                first_entry = self._post(self._env(first), "RMA lock test: first")
                first.commit()
                first_sequence = first_entry.sequence_number
            env = self._env(late)
            serialize_rma_postings(env, env["res.company"].browse(self.company_id))
            late_entry = self._post(env, "RMA lock test: late")
            late.commit()
            self.assertTrue(late_entry.inalterable_hash)
            self.assertEqual(late_entry.sequence_number, first_sequence + 1)
            # Hashed on the first one's hash: the journal's chain verifies.
            company = env["res.company"].browse(self.company_id)
            env.user.group_ids |= env.ref("account.group_account_user")  # the report is the accountants'
            results = [
                result
                for result in company._check_hash_integrity()["results"]
                if result["journal_name"].startswith(company._get_rma_journal().name)
            ]
            self.assertEqual([result["status"] for result in results], ["verified"])
            late.rollback()  # the group given above
        # The lock was released at commit: another connection takes it at once.
        with closing(sql_db.db_connect(self.db_name).cursor()) as other:
            other.execute("SELECT pg_try_advisory_lock(%s, %s)", (LOCK_NAMESPACE, self.company_id))
            self.assertTrue(other.fetchone()[0])
            other.execute("SELECT pg_advisory_unlock(%s, %s)", (LOCK_NAMESPACE, self.company_id))
