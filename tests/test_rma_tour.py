from odoo import Command
from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestRmaTour(HttpCase):
    def test_authorize_from_the_returns_menu(self):
        env = self.env
        admin = env.ref("base.user_admin")
        company = admin.company_id
        warehouse = env["stock.warehouse"].search([("company_id", "=", company.id)], limit=1)
        customers = env.ref("stock.stock_location_customers")
        customer = env["res.partner"].create({"name": "Tour Customer", "is_company": True})
        env["rma.reason"].create({"name": "Tour reason", "code": "TOUR", "is_proof_required": False})
        laptop = env["product.product"].create(
            {"name": "Tour Laptop", "type": "consu", "is_storable": True, "tracking": "serial"}
        )
        lot = env["stock.lot"].create({"product_id": laptop.id, "name": "TOUR-SN-0001"})
        env["stock.quant"]._update_available_quantity(laptop, warehouse.lot_stock_id, 1, lot_id=lot)
        picking = env["stock.picking"].create(
            {
                "partner_id": customer.id,
                "picking_type_id": warehouse.out_type_id.id,
                "location_id": warehouse.lot_stock_id.id,
                "location_dest_id": customers.id,
                "move_ids": [
                    Command.create(
                        {
                            "product_id": laptop.id,
                            "product_uom_qty": 1,
                            "location_id": warehouse.lot_stock_id.id,
                            "location_dest_id": customers.id,
                        }
                    )
                ],
            }
        )
        picking.action_confirm()
        picking.action_assign()
        picking.move_ids.picked = True
        picking._action_done()
        self.assertEqual(picking.move_line_ids.lot_id, lot)

        self.start_tour("/odoo/rma", "rma_recovery_authorize_tour", login="admin")

        rma = env["rma.order"].search([("partner_id", "=", customer.id)])
        self.assertRecordValues(rma, [{"state": "authorized", "authorized_by_id": admin.id}])
        self.assertTrue(rma.name.startswith("RMA/"))
        self.assertEqual(rma.line_ids.lot_id, lot)
