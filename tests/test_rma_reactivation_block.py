from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged

from .common_disposition import RmaDispositionCommon


@tagged("post_install", "-at_install")
class TestRmaReactivationBlock(RmaDispositionCommon):
    """A unit destroyed, recycled or harvested never comes back: its serial is blocked for Odoo's own delivery,
    receipt and inventory adjustment, and a new RMA for it is flagged, until a manager lifts the block."""

    def _recycled(self, serial):
        line = self._inspected_units(self._new_product("fifo"), [serial])
        self._dispose(line, self.code["REC"], recovery_value=0.0)
        return line

    def _stock_quantity(self, lot):
        quants = self.env["stock.quant"].search([("lot_id", "=", lot.id), ("location_id.usage", "=", "internal")])
        return sum(quants.mapped("quantity"))

    def _picking(self, picking_type, source, destination, product, lot=None, lot_name=None):
        picking = self.env["stock.picking"].create(
            {
                "picking_type_id": picking_type.id,
                "location_id": source.id,
                "location_dest_id": destination.id,
                "partner_id": self.customer.id,
                "move_ids": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "product_uom_qty": 1,
                            "location_id": source.id,
                            "location_dest_id": destination.id,
                        }
                    )
                ],
            }
        )
        picking.action_confirm()
        picking.move_ids.move_line_ids.unlink()
        picking.move_ids.write(
            {
                "move_line_ids": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "lot_id": lot.id if lot else False,
                            "lot_name": lot_name or False,
                            "quantity": 1,
                            "location_id": source.id,
                            "location_dest_id": destination.id,
                        }
                    )
                ],
                "picked": True,
            }
        )
        return picking

    def test_blocked_serial_cannot_come_back(self):
        line = self._recycled("BLK-0001")
        lot, product = line.lot_id, line.product_id
        self.assertRecordValues(lot, [{"is_rma_blocked": True, "rma_block_line_id": line.id}])

        # Odoo's delivery, from where the unit lies, to a customer.
        delivery = self._picking(self.warehouse.out_type_id, line.location_id, self.customer_location, product, lot=lot)
        with self.assertRaisesRegex(UserError, "^Serial number BLK-0001 is blocked: its unit was destroyed"):
            delivery.button_validate()
        self.assertEqual(delivery.state, "assigned")
        # Odoo's receipt, the serial typed by the receiving clerk.
        receipt = self._picking(
            self.warehouse.in_type_id, self.supplier_location, self.stock_location, product, lot_name="BLK-0001"
        )
        with self.assertRaisesRegex(UserError, "^Serial number BLK-0001 is blocked: its unit was destroyed"):
            receipt.button_validate()
        # Odoo's inventory adjustment.
        quant = (
            self.env["stock.quant"]
            .with_context(inventory_mode=True)
            .create({"product_id": product.id, "location_id": self.stock_location.id, "lot_id": lot.id})
        )
        quant.inventory_quantity = 1
        with self.assertRaisesRegex(UserError, "^Serial number BLK-0001 is blocked: its unit was destroyed"):
            quant.action_apply_inventory()
        self.assertEqual(self._stock_quantity(lot), 0.0, "nothing came back")

        # A new RMA for it is flagged.
        again = self._create_rma([(product, "BLK-0001")])
        self.assertTrue(again.line_ids.is_blocked_serial)
        self.assertIn("Serial Blocked", again.line_ids.flag_summary)

        # Only a manager lifts the block, with a reason kept in the unit's chain of custody.
        with self.assertRaises(AccessError):
            lot.with_user(self.rma_user)._action_rma_unblock("found in the back room")
        with self.assertRaises(AccessError):
            lot.with_user(self.rma_manager).write({"is_rma_blocked": False})
        wizard = Form(self.env["rma.unblock.wizard"].with_user(self.rma_manager).with_context(default_lot_ids=lot.ids))
        wizard.reason = "Recycler returned it unprocessed; data wiped again."
        wizard.save().action_confirm()
        self.assertFalse(lot.is_rma_blocked)
        self.assertIn("Recycler returned it unprocessed", line.custody_event_ids.sorted("sequence")[-1].note)
        quant.action_apply_inventory()
        self.assertEqual(self._stock_quantity(lot), 1.0)

    def test_blocked_serials_message_names_each_one(self):
        first, second = self._recycled("BLK-0201"), self._recycled("BLK-0202")
        quants = (
            self.env["stock.quant"]
            .with_context(inventory_mode=True)
            .create(
                [
                    {"product_id": line.product_id.id, "location_id": self.stock_location.id, "lot_id": line.lot_id.id}
                    for line in first | second
                ]
            )
        )
        quants.inventory_quantity = 1
        with self.assertRaises(UserError) as raised:
            quants.action_apply_inventory()
        self.assertEqual(
            raised.exception.args[0],
            f"Serial numbers BLK-0201, BLK-0202 are blocked: their units were destroyed, recycled or harvested"
            f" ({first.rma_id.name}, {second.rma_id.name}). They cannot come back into stock or be delivered unless a"
            " Returns Manager lifts the block on their serial numbers.",
        )
        with self.assertRaises(UserError) as raised:
            quants[1].action_apply_inventory()
        self.assertEqual(
            raised.exception.args[0],
            f"Serial number BLK-0202 is blocked: its unit was destroyed, recycled or harvested ({second.rma_id.name})."
            " It cannot come back into stock or be delivered unless a Returns Manager lifts the block on the serial"
            " number.",
        )

    def test_restocked_unit_is_not_blocked(self):
        line = self._inspected_units(self._new_product("fifo"), ["BLK-0101"])
        self._dispose(line, self.code["RTS"])
        self.assertFalse(line.lot_id.is_rma_blocked)
