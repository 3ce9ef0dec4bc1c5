"""Authorize RMAs for delivered serial units, against Odoo's native return wizard as baseline.

Figures per unit: milliseconds and SQL queries. Native baseline: the stock.return.picking wizard creating the
return picking and validating it, one unit at a time and in one batch. Ours: create one RMA per unit and
authorize them all in one call (checks against the shipment run for every unit), at 100 and 1,000 units.
"""

from common import Fixture, native_return

from odoo import Command

NATIVE_SINGLE_UNITS = 50
SIZES = (100, 1000)


def authorize(env, fixture, picking):
    """Ours: one RMA per delivered unit, created and authorized in batch."""
    rmas = env["rma.order"].create(
        [
            {
                "partner_id": fixture.customer.id,
                "reason_id": fixture.reason.id,
                "picking_id": picking.id,
                "line_ids": [Command.create({"product_id": fixture.product.id, "serial_number": lot.name})],
            }
            for lot in picking.move_line_ids.lot_id
        ]
    )
    rmas.action_authorize()
    assert set(rmas.mapped("state")) == {"authorized"}, "every unit passes the checks"
    return rmas


def run(env, measure):
    fixture = Fixture(env)
    singles = [fixture.deliver(1) for _index in range(NATIVE_SINGLE_UNITS)]
    batches = {size: fixture.deliver(size) for size in SIZES}
    to_authorize = {size: fixture.deliver(size) for size in SIZES}

    def native_one_by_one():
        for picking in singles:
            native_return(env, picking)

    measure("native return wizard, one unit at a time", NATIVE_SINGLE_UNITS, native_one_by_one)
    for size in SIZES:
        measure(f"native return wizard, batch of {size}", size, lambda size=size: native_return(env, batches[size]))
    for size in SIZES:
        measure(
            f"rma create + authorize, batch of {size}",
            size,
            lambda size=size: authorize(env, fixture, to_authorize[size]),
        )

    print()
    largest = SIZES[-1]
    ratio = measure.ratio(f"rma create + authorize, batch of {largest}", f"native return wizard, batch of {largest}")
    measure.ratio(
        f"rma create + authorize, batch of {largest}", f"native return wizard, batch of {largest}", key="queries"
    )
    measure.ratio(f"rma create + authorize, batch of {largest}", "native return wizard, one unit at a time")
    small, large = (measure.per_unit(f"rma create + authorize, batch of {size}", "queries") for size in SIZES)
    growth = (large - small) / small
    print(f"  queries/unit {SIZES[0]} -> {largest} units: {small:.2f} -> {large:.2f} ({growth:+.1%})")
    # The batch costs a fixed number of queries (none per unit), so per unit they shrink as it grows:
    # what must not happen is growth, the mark of a query per record.
    print(
        f"  target ms ratio <= 1.0: {'met' if ratio <= 1.0 else 'NOT met'};"
        f" queries/unit do not grow from {SIZES[0]} to {largest} units (<= +10%):"
        f" {'met' if growth <= 0.10 else 'NOT met'}"
    )
