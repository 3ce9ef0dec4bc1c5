"""Credit notes for 1,000 returned units in one action, against Odoo's own credit note from the sale order.

Per unit: milliseconds and SQL queries, to draft the credit note and to post it (real-time valuation, where the
addon's rule on the COGS lines runs). The units are sold on one sale line, delivered, invoiced and returned.
Baselines, in the same run: Odoo's credit note from the sale order (``_create_invoices(final=True)``) after Odoo's
native return of the same quantity, (a) for one sale line of 1,000 units (one credit note line) and (b) for 200
sale lines of one unit (a line per unit, as the RMA's; 1,000 such lines take Odoo over 15 minutes to set up).
"""

import os
import time

from common import Fixture, native_return

from odoo import Command

BATCH = int(os.environ.get("RMA_BENCH_CREDIT_UNITS", 1000))
# Odoo's sale order of 1,000 one-unit lines takes over 15 minutes to build, deliver and invoice here: the
# like-for-like baseline has fewer lines (its cost per line only grows with their number).
BASELINE_LINES = min(BATCH, int(os.environ.get("RMA_BENCH_CREDIT_BASELINE_LINES", 200)))
PRICE = 1000.0


def sold(env, fixture, lines, per_line):
    """A confirmed, delivered and invoiced sale order: ``lines`` lines of ``per_line`` units each."""
    count = lines * per_line
    names = [f"CN-{fixture._count + index:06d}" for index in range(count)]
    fixture._count += count
    lots = env["stock.lot"].create([{"product_id": fixture.product.id, "name": name} for name in names])
    for lot in lots:
        env["stock.quant"]._update_available_quantity(fixture.product, fixture.stock, 1, lot_id=lot)
    order = env["sale.order"].create(
        {
            "partner_id": fixture.customer.id,
            "order_line": [
                Command.create({"product_id": fixture.product.id, "product_uom_qty": per_line, "price_unit": PRICE})
                for _index in range(lines)
            ],
        }
    )
    order.action_confirm()
    picking = order.picking_ids
    picking.action_assign()
    picking.move_ids.picked = True
    picking._action_done()
    order._create_invoices().action_post()
    return order, picking


def step(label, started=[]):  # noqa: B006 - progress of the set-up, which takes minutes for 1,000 lines
    now = time.perf_counter()
    if started:
        print(f"  (set-up: {label} after {now - started[0]:.0f} s)", flush=True)
    started[:] = [now]


def run(env, measure):
    step("start")
    fixture = Fixture(env)
    category = env["product.category"].create(
        {"name": "Bench real-time", "property_valuation": "real_time", "property_cost_method": "fifo"}
    )
    fixture.product.write({"categ_id": category.id, "invoice_policy": "delivery", "list_price": PRICE})
    fixture.customer.rma_advance_remedy = True  # credited on authorization: no inspection to set up

    native_orders = {}
    for label, lines, per_line in (("a", 1, BATCH), ("b", BASELINE_LINES, 1)):
        order, picking = sold(env, fixture, lines, per_line)
        step(f"sold {label}")
        native_return(env, picking)
        step(f"returned {label}")
        assert sum(order.order_line.mapped("qty_to_invoice")) == -lines * per_line
        native_orders[label] = (order, lines * per_line)
    rma_order, rma_picking = sold(env, fixture, 1, BATCH)
    rma = env["rma.order"].create(
        {
            "partner_id": fixture.customer.id,
            "reason_id": fixture.reason.id,
            "sale_order_id": rma_order.id,
            "line_ids": [
                Command.create({"product_id": fixture.product.id, "serial_number": lot.name})
                for lot in rma_picking.move_line_ids.lot_id
            ],
        }
    )
    rma.action_authorize()
    env["stock.picking"]._rma_receive(rma.line_ids, station="BENCH")
    step("rma received")

    refunds = {}
    labels = {
        "a": f"odoo credit note from sale order, 1 line x {BATCH}",
        "b": f"odoo credit note from sale order, {BASELINE_LINES} lines",
    }
    for key, (order, units) in native_orders.items():
        refunds[key] = measure(f"{labels[key]}: draft", units, lambda order=order: order._create_invoices(final=True))
        measure(f"{labels[key]}: post", units, refunds[key].action_post)
    measure(f"rma credit note, {BATCH} units: draft", BATCH, rma.action_create_credit_note)
    rma_refund = rma.line_ids.credit_note_id
    assert len(rma_refund) == 1 and len(rma_refund.invoice_line_ids) == BATCH
    measure(f"rma credit note, {BATCH} units: post", BATCH, rma_refund.action_post)
    assert not rma_refund.line_ids.filtered(lambda line: line.display_type == "cogs"), "the receipt reversed COGS"
    assert set(rma.line_ids.mapped("remedy_state")) == {"done"}

    print()
    ratios = {}
    for key, label in labels.items():
        for metric in ("ms", "queries"):
            ours = sum(
                measure.per_unit(f"rma credit note, {BATCH} units: {step}", metric) for step in ("draft", "post")
            )
            theirs = sum(measure.per_unit(f"{label}: {step}", metric) for step in ("draft", "post"))
            ratios[key, metric] = ours / theirs
            print(
                f"  ratio {metric}/unit  rma credit note (draft + post)  vs  {label} (draft + post):"
                f" {ours / theirs:.2f}"
            )
    met = "met" if ratios["b", "ms"] <= 1.2 else "NOT met"
    print(f"  target: <= 1.2x Odoo's credit note with a line per unit: {ratios['b', 'ms']:.2f} {met}")
