"""19.0.1.10.0: RMAs are portal documents; those made before get the access token new ones get at creation.

Odoo's chatter and the portal's links read an RMA's ``access_token`` (portal.mixin); an RMA without one would give
its customer a server error instead of the page the step mails link to.
"""

from odoo.tools import SQL


def migrate(cr, version):
    cr.execute(SQL("UPDATE rma_order SET access_token = gen_random_uuid()::text WHERE access_token IS NULL"))
