"""19.0.1.10.0: RMAs are portal documents; those made before get their own access token.

Odoo's chatter and the portal's links read an RMA's ``access_token`` (portal.mixin). When the update adds the column,
Odoo fills the existing rows with the field's default computed once: every RMA would share one token, and a
customer's link would open any other customer's RMA. Each RMA made before gets a token of its own (none was sent
yet: the mails that carry them are new in this version).
"""

from odoo.tools import SQL


def migrate(cr, version):
    cr.execute(SQL("UPDATE rma_order SET access_token = gen_random_uuid()::text"))
