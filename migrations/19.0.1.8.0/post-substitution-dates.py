"""19.0.1.8.0: substitute units get the authorization date they missed.

A unit received in place of an authorized one (a substitution) used to be created directly as authorized, without
the state machine: it had no authorization date and the return-rate KPI, which counts units by that date, left it
out. It was authorized when it was scanned in, which is when it was created.
"""

from odoo.tools import SQL


def migrate(cr, version):
    cr.execute(
        SQL(
            # Every other unit past its request got the date from the state machine: only substitutes lack it.
            """UPDATE rma_line SET authorized_date = create_date
                WHERE authorized_date IS NULL AND state NOT IN ('draft', 'rejected', 'cancel')"""
        )
    )
