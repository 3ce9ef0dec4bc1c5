"""Authorize RMAs for delivered serial units, against Odoo's native return wizard as baseline.

Figures per unit: milliseconds and SQL queries. Native baseline: the stock.return.picking wizard creating the
return picking and validating it, one unit at a time and in one batch. Ours: create one RMA per unit and
authorize them all in one call (checks against the shipment run for every unit), at 100 and 1,000 units.
"""

from odoo import Command

NATIVE_SINGLE_UNITS = 50
SIZES = (100, 1000)


class Fixture:
    """A customer, a serial-tracked product and delivered units, created outside the measurements."""

    def __init__(self, env):
        self.env = env
        self.company = env.company
        self.warehouse = env["stock.warehouse"].search([("company_id", "=", self.company.id)], limit=1)
        self.stock = self.warehouse.lot_stock_id
        self.customers = env.ref("stock.stock_location_customers")
        self.customer = env["res.partner"].create({"name": "Bench Customer", "is_company": True})
        self.product = env["product.product"].create(
            {"name": "Bench Laptop", "is_storable": True, "tracking": "serial", "standard_price": 500.0}
        )
        self.reason = env["rma.reason"].create({"name": "Bench", "code": "BENCH", "is_proof_required": False})
        self._count = 0

    def deliver(self, count):
        """One delivery of ``count`` serial units to the customer; returns the done picking."""
        names = [f"BENCH-{self._count + index:06d}" for index in range(count)]
        self._count += count
        lots = self.env["stock.lot"].create([{"product_id": self.product.id, "name": name} for name in names])
        quants = self.env["stock.quant"]
        for lot in lots:
            quants._update_available_quantity(self.product, self.stock, 1, lot_id=lot)
        picking = self.env["stock.picking"].create(
            {
                "partner_id": self.customer.id,
                "picking_type_id": self.warehouse.out_type_id.id,
                "location_id": self.stock.id,
                "location_dest_id": self.customers.id,
                "move_ids": [
                    Command.create(
                        {
                            "product_id": self.product.id,
                            "product_uom_qty": count,
                            "location_id": self.stock.id,
                            "location_dest_id": self.customers.id,
                        }
                    )
                ],
            }
        )
        picking.action_confirm()
        picking.action_assign()
        picking.move_ids.picked = True
        picking._action_done()
        return picking


def native_return(env, picking):
    """Odoo's return flow: the return wizard, then validation of the return picking."""
    wizard = env["stock.return.picking"].with_context(active_id=picking.id, active_model="stock.picking").create({})
    for line in wizard.product_return_moves:
        line.quantity = line.move_id.quantity
    return_picking = wizard._create_return()
    delivered_lots = picking.move_line_ids.lot_id
    # Serial units must be identified on the receipt, as a user scanning them would.
    return_picking.move_ids.move_line_ids.unlink()
    return_picking.move_ids.write(
        {
            "move_line_ids": [
                Command.create(
                    {
                        "product_id": lot.product_id.id,
                        "lot_id": lot.id,
                        "quantity": 1,
                        "location_id": return_picking.location_id.id,
                        "location_dest_id": return_picking.location_dest_id.id,
                    }
                )
                for lot in delivered_lots
            ],
            "picked": True,
        }
    )
    return_picking.button_validate()
    assert return_picking.state == "done", return_picking.state
    return return_picking


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
    drift = abs(large - small) / small
    print(f"  queries/unit {SIZES[0]} -> {largest} units: {small:.2f} -> {large:.2f} ({drift:+.1%})")
    print(
        f"  target ms ratio <= 1.0: {'met' if ratio <= 1.0 else 'NOT met'};"
        f" queries flat within 10%: {'met' if drift <= 0.10 else 'NOT met'}"
    )
