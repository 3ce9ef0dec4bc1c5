"""19.0.1.11.0: the customers' mails are sent by a job, a moment after the step; the authorization mail lists the
units authorized rather than the units still in the state *authorized* (one received meanwhile stays in the mail).

The templates are ``noupdate`` (a company may adapt them): the authorization template is reset from its file only
if its body is still 19.0.1.10.0's, so an adapted one is kept as it is.
"""

from odoo import SUPERUSER_ID, api

OLD_FILTER = "line.state == 'authorized'"


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    template = env.ref("rma_recovery.rma_mail_template_authorized", raise_if_not_found=False)
    if template and OLD_FILTER in (template.body_html or ""):
        template.reset_template()
