"""19.0.1.4.0: remedies.

- Units already closed, rejected or cancelled get no remedy (none was tracked before): their RMAs stay as they were.
  Open units default to a refund, to be confirmed by a manager once inspected.
- Companies with a chart get the Warranty Expense account (replacements); their Returns Recovery Clearing account
  becomes reconcilable, so that a recycler's bill or payment clears the recovery receivable.
- The restocking fee rules shipped with the module get the Restocking Fee product for their credit note lines.
"""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    ended = env["rma.line"].search([("state", "in", ("closed", "rejected", "cancel"))])
    ended.write({"remedy_requested": "none", "remedy": "none"})
    companies = env["res.company"].search([("chart_template", "!=", False)])
    companies._rma_setup_accounts()
    for company in companies:
        recovery = env["ir.default"]._get("rma.disposition", "recovery_account_id", company_id=company.id)
        if recovery:
            env["account.account"].browse(recovery).reconcile = True
    fee_product = env.ref("rma_recovery.rma_product_restocking_fee", raise_if_not_found=False)
    if fee_product:
        env["rma.restocking.rule"].with_context(active_test=False).search(
            [("is_fee_eligible", "=", True), ("fee_product_id", "=", False)]
        ).write({"fee_product_id": fee_product.id})
    rmas = env["rma.order"].search([])
    env.add_to_compute(rmas._fields["state"], rmas)
    rmas.flush_recordset(["state"])
