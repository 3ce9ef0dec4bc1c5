"""19.0.1.8.0: the RMA Dispositions journal is no longer hashed at posting; the company seal secures it.

Concurrent postings in a journal hashed at posting fail with Odoo's "gap in the sequence" (see
models/rma_custody_seal.py). Odoo refuses to turn *Secure Posted Entries with Hash* off once a journal has hashed
entries (account.journal.write), to keep users from switching the protection off; here the protection moves to the
seal job, which hashes every posted entry with Odoo's own Secure Entries mechanism, so the flag is cleared in SQL.
The entries hashed so far keep their hash and still verify (Odoo's integrity report reads every hashed entry,
whatever the flag); the next seal continues their chain. The seal job is woken up to secure what is pending.
"""

from odoo import SUPERUSER_ID, api
from odoo.tools import SQL


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    journals = env["account.journal"].search([("code", "=", "RMAD")])
    if journals:
        cr.execute(SQL("UPDATE account_journal SET restrict_mode_hash_table = FALSE WHERE id = ANY(%s)", journals.ids))
        journals.invalidate_recordset(["restrict_mode_hash_table"])
    env.ref("rma_recovery.rma_cron_custody_seal")._trigger()
