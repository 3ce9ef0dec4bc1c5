from odoo import Command, api, models
from odoo.tools import file_open

from .rma_demo import with_luhn_digit
from .rma_read_parser import sgtin_hex, split_read

# The demo products' GTINs (GS1's example company prefix 4012345, valid check digits), in their barcode field.
DEMO_GTINS = {
    "rma_recovery.demo_product_laptop": "4012345000016",
    "rma_recovery.demo_product_phone": "4012345000023",
    "rma_recovery.demo_product_switch": "4012345000030",
}
DEMO_COMPANY_PREFIX_LENGTH = 7
# The two pallets Acme sends back, each an authorized RMA: the units of each, their tags' EPCs in the files below (an
# RFID portal's export, one EPC a line). The demo receives the first by its read; the second waits for `make run`'s
# user to paste data/files/demo_pallet_epc.txt on Inventory > Returns > Receive > Bulk read.
PALLETS = {
    "data/files/demo_pallet_received_epc.txt": {
        "rma_recovery.demo_product_laptop": [f"PB14-D1{index:03d}" for index in range(1, 5)],
        "rma_recovery.demo_product_phone": [with_luhn_digit(f"35693804{index:06d}") for index in range(1, 3)],
    },
    "data/files/demo_pallet_epc.txt": {
        "rma_recovery.demo_product_laptop": [f"PB14-D2{index:03d}" for index in range(1, 4)],
        "rma_recovery.demo_product_phone": [with_luhn_digit(f"35693804{index:06d}") for index in range(3, 5)],
        "rma_recovery.demo_product_switch": ["SW24-D2001"],
    },
}


def pallet_epcs(pallet):
    """The EPC hex of each unit's tag on ``pallet`` ({product xml id: serials}), in order: what the files hold."""
    return [
        sgtin_hex(DEMO_GTINS[xmlid], serial, DEMO_COMPANY_PREFIX_LENGTH)
        for xmlid, serials in pallet.items()
        for serial in serials
    ]


class RmaDemo(models.AbstractModel):
    """The dock's bulk reads in the demo: products with their GTIN, two pallets of returns authorized, the first
    received by its RFID read (rma.scan.receive_bulk), the second left to receive by pasting its read."""

    _inherit = "rma.demo"

    @api.model
    def _demo_dock(self):
        env = self.env
        for xmlid, gtin in DEMO_GTINS.items():
            product = env.ref(xmlid)
            if not product.barcode:
                product.barcode = gtin
        manager, inspector = self._demo_people()
        acme = env.ref("rma_recovery.demo_partner_acme")
        warehouse = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1)
        rmas = []
        for path, pallet in PALLETS.items():
            units = {env.ref(xmlid): serials for xmlid, serials in pallet.items()}
            self._put_in_stock(warehouse.lot_stock_id, units)
            order = self._demo_deliver_lots(acme, units)
            rma = env["rma.order"].create(
                {
                    "partner_id": acme.id,
                    "sale_order_id": order.id,
                    "customer_reference": order.client_order_ref or order.name,
                    "reason_id": env.ref("rma_recovery.rma_reason_failed").id,
                    "user_id": manager.id,
                    "line_ids": [
                        Command.create({"product_id": product.id, "serial_number": serial})
                        for product, serials in units.items()
                        for serial in serials
                    ],
                }
            )
            # The proof of purchase attached as the form's upload does (the reason requires one).
            proof = env["ir.attachment"].create(
                {
                    "name": f"{order.name.replace('/', '-')}-invoice.pdf",
                    "raw": b"%PDF-1.4 demo proof of purchase",
                    "mimetype": "application/pdf",
                    "res_model": "rma.order",
                    "res_id": rma.id,
                }
            )
            rma.proof_attachment_ids = [Command.link(proof.id)]
            rma.with_user(manager).action_authorize()
            rma.message_post(
                body=env._(
                    "A pallet of %(count)s units, RFID-tagged: its portal read is %(path)s in the addon (one EPC a"
                    " line). Receive it at once: Inventory > Returns > Receive, Bulk read, paste the read.",
                    count=len(rma.line_ids),
                    path=path,
                )
            )
            rmas.append((rma, path))
        # The first pallet through the dock's RFID portal: the read received as Marc Demo at the demo dock.
        (received, path), _waiting = rmas
        with file_open(f"rma_recovery/{path}") as read:
            codes = split_read(read.read())
        env["rma.scan"].with_user(inspector).receive_bulk(codes, rma_id=received.id, station="DEMO-PORTAL")

    @api.model
    def _demo_deliver_lots(self, partner, units):
        """A sale to ``partner`` delivering exactly these serials ({product: serials}), invoiced."""
        order = self.env["sale.order"].create(
            {
                "partner_id": partner.id,
                "client_order_ref": f"PO-{partner.id}-PALLET",
                "order_line": [
                    Command.create({"product_id": product.id, "product_uom_qty": len(serials)})
                    for product, serials in units.items()
                ],
            }
        )
        order.action_confirm()
        pickings = order.picking_ids
        lots = self.env["stock.lot"].search(
            [
                ("product_id", "in", [product.id for product in units]),
                ("name", "in", [serial for serials in units.values() for serial in serials]),
            ]
        )
        for move in pickings.move_ids:
            move.move_line_ids.unlink()
            move.write(
                {
                    "move_line_ids": [
                        Command.create(
                            {
                                "product_id": move.product_id.id,
                                "lot_id": lot.id,
                                "quantity": 1,
                                "location_id": move.location_id.id,
                                "location_dest_id": move.location_dest_id.id,
                            }
                        )
                        for lot in lots.filtered(lambda lot, move=move: lot.product_id == move.product_id)
                    ],
                    "picked": True,
                }
            )
        pickings.with_context(skip_sms=True).button_validate()
        if self.env.company.chart_template:
            order._create_invoices().action_post()
        order.invalidate_recordset()
        return order
