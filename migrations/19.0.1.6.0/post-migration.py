"""19.0.1.6.0: the COGS reversal of each returned unit is recorded (rma.cogs.reversal).

- Each RMA receipt entry already posted becomes the unit's ``receipt`` record (its Cr COGS journal item).
- Units whose receipt posted nothing because a credit note posted before their RMA had reversed their COGS (the
  former ``is_cogs_reversed_by_refund`` flag) get that credit note's COGS allocated to them, as an authorization
  does now.
"""

from odoo import SUPERUSER_ID, api
from odoo.tools import SQL
from odoo.tools.sql import column_exists


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    receipt_items = env["account.move.line"].search(
        [("rma_line_id", "!=", False), ("name", "=like", "% RECEIPT"), ("parent_state", "=", "posted")]
    )
    vals_list = []
    for item in receipt_items:
        unit = item.rma_line_id
        cogs = unit.product_id.product_tmpl_id.with_company(unit.company_id)._get_product_accounts()["expense"]
        if item.account_id != cogs:
            continue
        vals_list.append(
            {
                "line_id": unit.id,
                "kind": "receipt",
                "move_id": item.move_id.id,
                "move_line_id": item.id,
                "quantity": abs(item.quantity) if item.credit else -abs(item.quantity),
                "amount": -item.balance,
            }
        )
    env["rma.cogs.reversal"].create(vals_list)
    if column_exists(cr, "rma_line", "is_cogs_reversed_by_refund"):
        cr.execute(SQL("SELECT id FROM rma_line WHERE is_cogs_reversed_by_refund"))
        credited = env["rma.line"].browse(row[0] for row in cr.fetchall())
        env["rma.cogs.reversal"]._allocate_earlier_credit_notes(credited)
