"""Posting into the hash-restricted RMA journal from concurrent requests.

Odoo numbers and hashes an entry of a restricted journal from the entries its own transaction can see. Under
PostgreSQL's repeatable read, a request that started before another one posted in the same journal cannot see that
entry: it takes the next number all the same (the unique index makes it wait, then skip) and finds a "gap" before its
own, or would chain its hash onto a stale predecessor. Requests that post in a company's RMA Dispositions journal
therefore queue on a lock per company, taken before they write anything, and then continue in a fresh transaction,
whose snapshot holds every entry posted before the lock was granted. The queue also settles two scans of one unit:
the second sees the first's receipt.
"""

from odoo.sql_db import Cursor
from odoo.tools import SQL

LOCK_NAMESPACE = 0x524D41  # "RMA": the first key of pg_advisory_lock(int, int); the second is the company id
_LOCKED = "rma_posting_locked"  # key in cr.cache while this transaction holds the lock


def serialize_rma_postings(env, companies):
    """Queue this request behind the others posting for ``companies``; call it before the method writes anything.

    While the transaction has written nothing yet (a JSON-RPC call starting), the lock is a session-level advisory
    lock, the transaction is rolled back and the call goes on with a fresh snapshot (as Odoo's own retry on
    serialization failures does); the lock is released when the transaction commits or rolls back. After a write
    (a test's transaction, a batch already under way) it is a transaction-level lock, without the fresh snapshot.
    """
    cr = env.cr
    keys = sorted(set(companies.ids))
    if not keys or cr.cache.get(_LOCKED):
        return
    env.flush_all()
    cr.execute("SELECT txid_current_if_assigned()")
    has_written = cr.fetchone()[0] is not None
    session_lock = not has_written and isinstance(cr, Cursor)  # a test cursor lives inside the test's transaction
    for key in keys:
        if session_lock:
            cr.execute(SQL("SELECT pg_advisory_lock(%s, %s)", LOCK_NAMESPACE, key))
        else:
            cr.execute(SQL("SELECT pg_advisory_xact_lock(%s, %s)", LOCK_NAMESPACE, key))
    if session_lock:
        cr.rollback()
        env.transaction.reset()

    def release():
        cr.cache.pop(_LOCKED, None)
        if session_lock:
            _unlock(cr, keys)

    cr.postcommit.add(release)
    cr.postrollback.add(release)
    cr.cache[_LOCKED] = True


def _unlock(cr, keys):
    """Release the session-level locks once the transaction is over (committed or rolled back).

    The cursor may already be closing (Odoo runs the rollback hooks after closing its SQL cursor): unlock on the
    connection itself. An unlock is not transactional; the rollback only ends the unlock statement's transaction.
    """
    connection = cr._cnx
    with connection.cursor() as raw:
        for key in keys:
            raw.execute("SELECT pg_advisory_unlock(%s, %s)", (LOCK_NAMESPACE, key))
    connection.rollback()
