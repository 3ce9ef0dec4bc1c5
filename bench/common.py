"""What the benchmarks share: delivered serial units, and Odoo's native return flow as the baseline."""

from odoo import Command


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
    # Serial units must be identified on the receipt, as a user scanning them would: each return move gets the
    # serials its original delivery move shipped.
    return_picking.move_ids.move_line_ids.unlink()
    env["stock.move.line"].create(
        [
            {
                "move_id": move.id,
                "picking_id": return_picking.id,
                "product_id": lot.product_id.id,
                "lot_id": lot.id,
                "quantity": 1,
                "location_id": return_picking.location_id.id,
                "location_dest_id": return_picking.location_dest_id.id,
            }
            for move in return_picking.move_ids
            for lot in move.origin_returned_move_id.move_line_ids.lot_id
        ]
    )
    return_picking.move_ids.picked = True
    return_picking.button_validate()
    assert return_picking.state == "done", return_picking.state
    return return_picking
