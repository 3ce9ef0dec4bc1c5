"""19.0.1.7.0: a draft disposition batch shows its units' book value.

The batch line's ``book_value`` became a stored computed field (the unit's receipt value while the batch is draft).
Odoo computes a new stored field when its column is created, but this column existed: the lines of draft batches
would keep 0.00 until a unit's receipt value changes. Confirmed batches keep the value their confirmation recorded.
"""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    lines = env["rma.disposition.batch.line"].search([("batch_id.state", "=", "draft")])
    env.add_to_compute(lines._fields["book_value"], lines)
    lines.flush_recordset()
