import base64
from datetime import timedelta

from odoo import api, fields, models

# The web shop's order of the demo: docs/API.md's examples name it, its customer and its serials, so that they work
# as written against `make run`'s database (tests/test_rma_api.py runs them on the same records).
WEB_ORDER_REFERENCE = "WEB-10042"
WEB_LAPTOPS = [f"PB14-{index:05d}" for index in range(15, 20)]
DEMO_KEY_NAME = "Demo key (make run)"
DEMO_KEY_DAYS = 30
DEMO_PROOF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


class RmaDemo(models.AbstractModel):
    """The demo's intake: Joel Willis (Odoo's demo portal user, login ``portal``) bought from the web shop; he
    requested one return from the portal himself, and the web shop's connector submitted another through the API,
    which a manager authorized (its label is on Joel's portal page). ``make run`` prints a key of the connector."""

    _inherit = "rma.demo"

    @api.model
    def _demo_web_shop_sale(self, laptop, phone, location):
        """Joel's web-shop order: every laptop and phone left in stock (the demo's earlier deliveries took the
        others, so the serials are known: one PB14-00014, WEB_LAPTOPS, the sixth phone), delivered and invoiced."""
        self._put_in_stock(location, {laptop: WEB_LAPTOPS})
        available = self.env["stock.quant"]._read_group(
            [("location_id", "=", location.id), ("product_id", "in", (laptop | phone).ids), ("quantity", ">", 0)],
            ["product_id"],
            ["quantity:sum"],
        )
        order = self._deliver_sale(self.env.ref("base.partner_demo_portal"), dict(available))
        order.client_order_ref = WEB_ORDER_REFERENCE
        return order

    @api.model
    def _demo_intake(self, order, laptop, phone, manager):
        """Joel's two returns: one requested from the portal (waiting for the Returns team, with its activity), one
        submitted by the web shop through the API and authorized (with its label)."""
        portal_user = self.env.ref("base.demo_user0")
        joel = portal_user.partner_id
        Rma = self.env["rma.order"]
        returnable = Rma.with_user(portal_user)._portal_returnable_units(joel)
        first_laptop = next(
            key for key, unit in returnable.items() if unit["order"] == order and unit["serial"] == "PB14-00014"
        )
        Rma.with_user(portal_user)._portal_create_request(
            joel,
            {
                "reason_id": self.env.ref("rma_recovery.rma_reason_failed").id,
                "units": {first_laptop: 1},
                "customer_reference": WEB_ORDER_REFERENCE,
                "description": "The fan runs at full speed and the laptop shuts down after ten minutes.",
            },
            [("proof", f"{WEB_ORDER_REFERENCE}-invoice.pdf", DEMO_PROOF)],
        )
        phone_imei = order.picking_ids.move_line_ids.filtered(lambda line: line.product_id == phone).lot_id.name
        submitted = Rma.with_user(self.env.ref("rma_recovery.demo_user_integration")).api_submit_request(
            external_reference="SHOP-10041-R1",
            customer_ref=joel.ref,
            order_reference=WEB_ORDER_REFERENCE,
            reason_code="DOA",
            description="Ordered on the web shop; the phone does not charge, the laptop's screen flickers.",
            units=[
                {"product": phone.default_code, "serial": phone_imei, "remedy": "replacement"},
                {"product": laptop.default_code, "serial": WEB_LAPTOPS[0]},
            ],
            proof={"filename": f"{WEB_ORDER_REFERENCE}-invoice.pdf", "data": base64.b64encode(DEMO_PROOF).decode()},
        )
        Rma.browse(submitted["id"]).with_user(manager).action_authorize()

    @api.model
    def _demo_api_key(self):
        """A fresh API key of the demo's web-shop connector, for ``make run`` to print: the previous demo key is
        revoked. Returns (key, the connector's login, the id of its authorized RMA)."""
        user = self.env.ref("rma_recovery.demo_user_integration", raise_if_not_found=False)
        if not user:
            return False
        self.env["res.users.apikeys"].search([("user_id", "=", user.id), ("name", "=", DEMO_KEY_NAME)])._remove()
        key = (
            self.env["res.users.apikeys"]
            .with_user(user)
            ._generate(
                scope="rpc", name=DEMO_KEY_NAME, expiration_date=fields.Datetime.now() + timedelta(days=DEMO_KEY_DAYS)
            )
        )
        authorized = self.env["rma.order"].search(
            [("create_uid", "=", user.id), ("state", "=", "authorized")], order="id", limit=1
        )
        return key, user.login, authorized.id
