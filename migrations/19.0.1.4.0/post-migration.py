"""19.0.1.4.0: remedies.

- Units already closed, rejected or cancelled get no remedy (none was tracked before): their RMAs stay as they were.
  Open units default to a refund, to be confirmed by a manager once inspected.
- Companies with a chart get the Warranty Expense account (replacements); their Returns Recovery Clearing account
  becomes reconcilable, so that a recycler's bill or payment clears the recovery receivable.
- Each company gets its Certificate of Sanitization sequence.
- The serials of units already disposed SD, REC or PH are blocked (reactivation block).
- The restocking fee rules shipped with the module get the Restocking Fee product for their credit note lines.
"""

from odoo import SUPERUSER_ID, api
from odoo.tools import SQL


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    # The requested remedy is frozen once an RMA is decided: set in SQL, then the remedy statuses recomputed.
    env.flush_all()
    cr.execute(
        SQL(
            "UPDATE rma_line SET remedy_requested = 'none', remedy = 'none'"
            " WHERE state IN ('closed', 'rejected', 'cancel')"
        )
    )
    env.invalidate_all()
    lines = env["rma.line"].search([])
    env.add_to_compute(lines._fields["remedy_state"], lines)
    lines.flush_recordset(["remedy_state"])
    env["res.company"].search([])._create_rma_sequences()  # certificates of sanitization
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
    ended = env["rma.line"].search([("disposition_id.treatment", "in", ("salvage", "destroy"))])
    env["stock.lot"]._rma_block(ended)
    rmas = env["rma.order"].search([])
    env.add_to_compute(rmas._fields["remedy_state"], rmas)
    env.add_to_compute(rmas._fields["state"], rmas)
    rmas.flush_recordset(["remedy_state", "state"])
