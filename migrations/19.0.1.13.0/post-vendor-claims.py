"""19.0.1.13.0: companies with a chart get the Vendor Claims account of returns to vendor (issue 23 §1).

A unit shipped to its vendor leaves stock into Vendor Claims (an asset) until the vendor's answer clears it
(accounting contract, RTV). New companies get the account when their chart is loaded; the companies of an existing
database get it here, as the chart's loading would have made it. The RTV code and the VRMA sequences are data or
made on first use.
"""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["res.company"].search([("chart_template", "!=", False)])._rma_setup_accounts()
