from odoo import Command, api, fields, models

# The demo's vendor return: docking stations bought from their maker on a purchase order, one sold to Acme, returned
# dead, sent back to the maker under its warranty and credited.
VENDOR_NAME = "Dockline Manufacturing Ltd."
DOCK_SERIALS = ["DK90-00001", "DK90-00002"]
DOCK_PRICE = 180.0
VENDOR_AUTHORIZATION = "DL-RMA-7731"


class RmaDemo(models.AbstractModel):
    """The demo's return to vendor (RTV): Inventory > Returns > Vendor RMAs shows it closed, with its shipment, the
    vendor's credit note and the Vendor Claims entries."""

    _inherit = "rma.demo"

    @api.model
    def _demo_vendor(self):
        env = self.env
        if not env.company.chart_template:
            return env["rma.vendor.return"]  # the vendor claim is an entry: the demo needs the company's chart
        manager, inspector = self._demo_people()
        vendor = env["res.partner"].create({"name": VENDOR_NAME, "is_company": True})
        dock = env["product.product"].create(
            {
                "name": "USB-C Docking Station 90W",
                "default_code": "DOCK-90",
                "type": "consu",
                "is_storable": True,
                "tracking": "serial",
                "categ_id": env.ref("rma_recovery.demo_category_it").id,
                "list_price": 290.0,
                "standard_price": DOCK_PRICE,
                "seller_ids": [
                    Command.create({"partner_id": vendor.id, "price": DOCK_PRICE, "rma_warranty_months": 24})
                ],
            }
        )
        self._demo_vendor_purchase(vendor, dock)
        acme = env.ref("rma_recovery.demo_partner_acme")
        sale = self._deliver_sale(acme, {dock: 1})
        serial = sale.picking_ids.move_line_ids.lot_id.name
        rma = env["rma.order"].create(
            {
                "partner_id": acme.id,
                "sale_order_id": sale.id,
                "customer_reference": sale.client_order_ref,
                "reason_id": env.ref("rma_recovery.rma_reason_doa").id,
                "user_id": manager.id,
                "line_ids": [Command.create({"product_id": dock.id, "serial_number": serial})],
            }
        )
        # The proof of purchase attached to its RMA, as the form's upload does.
        proof = env["ir.attachment"].create(
            {
                "name": f"{sale.name.replace('/', '-')}-invoice.pdf",
                "raw": b"%PDF-1.4 demo proof of purchase",
                "mimetype": "application/pdf",
                "res_model": "rma.order",
                "res_id": rma.id,
            }
        )
        rma.proof_attachment_ids = [Command.link(proof.id)]
        rma.with_user(manager).action_authorize()
        self._demo_receive(rma, inspector)
        self._demo_inspect(
            rma.line_ids,
            [
                {
                    "grade_id": env.ref("rma_recovery.rma_grade_d").id,
                    "functional_result": "fail",
                    "failure_code_ids": [Command.set(env.ref("rma_recovery.rma_failure_display").ids)],
                }
            ],
            inspector,
        )
        batch = (
            env["rma.disposition.batch"]
            .with_user(manager)
            .create(
                {
                    "note": "Dead on arrival, under Dockline's 24-month warranty: return to vendor.",
                    "line_ids": [
                        Command.create(
                            {
                                "unit_id": rma.line_ids.id,
                                "disposition_id": env.ref("rma_recovery.rma_disposition_rtv").id,
                            }
                        )
                    ],
                }
            )
        )
        batch.action_confirm()
        vendor_return = rma.line_ids.vendor_return_id.with_user(manager)
        vendor_return.action_request()
        vendor_return.authorization_number = VENDOR_AUTHORIZATION
        vendor_return.action_ship()
        vendor_return.line_ids.action_answer_credit()
        return vendor_return

    @api.model
    def _demo_vendor_purchase(self, vendor, product):
        """The purchase order of the docking stations, received with their serials and billed."""
        warehouse = self.env["stock.warehouse"].search([("company_id", "=", self.env.company.id)], limit=1)
        order = self.env["purchase.order"].create(
            {
                "partner_id": vendor.id,
                "picking_type_id": warehouse.in_type_id.id,
                "order_line": [
                    Command.create(
                        {"product_id": product.id, "product_qty": len(DOCK_SERIALS), "price_unit": DOCK_PRICE}
                    )
                ],
            }
        )
        order.button_confirm()
        moves = order.picking_ids.move_ids
        moves.move_line_ids.unlink()
        moves.write(
            {
                "move_line_ids": [
                    Command.create({"product_id": product.id, "lot_name": serial, "quantity": 1})
                    for serial in DOCK_SERIALS
                ],
                "picked": True,
            }
        )
        order.picking_ids.button_validate()
        if self.env.company.chart_template:
            order.action_create_invoice()
            order.invoice_ids.invoice_date = fields.Date.context_today(self)
            order.invoice_ids.action_post()
        return order
