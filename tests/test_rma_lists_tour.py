from odoo.tests import HttpCase, tagged

from .common import RmaTourMixin


@tagged("post_install", "-at_install")
class TestRmaListsTour(RmaTourMixin, HttpCase):
    """What a warehouse user reads at 1366 px: identifiers whole, the blocked serial's warning whole, and the way
    back from the Receive screen."""

    browser_size = "1366x768"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.customer = env["res.partner"].create({"name": "Lists Customer", "is_company": True})
        cls.reason = env["rma.reason"].create({"name": "Lists reason", "code": "LISTS", "is_proof_required": False})
        cls.laptop = env["product.product"].create(
            {
                "name": "ProBook 14 G10 Laptop",
                "default_code": "LAP-PB14G10",
                "type": "consu",
                "is_storable": True,
                "tracking": "serial",
            }
        )

    def _received_rma(self, serials):
        """An RMA whose units (serials sharing a long prefix) were received."""
        self._deliver(self.customer, self.laptop, serials)
        rma = self._authorized_rma(self.customer, self.reason, self.laptop, serials)
        self.env["stock.picking"]._rma_receive(rma.line_ids, station="DOCK-1")
        return rma

    def test_identifiers_are_whole_at_1366_px(self):
        rma = self._received_rma([f"PB14-2026-0000{n}" for n in range(1, 7)])
        self.assertEqual(len(rma.line_ids), 6)
        self.start_tour(f"/odoo/rma/{rma.id}", "rma_recovery_lists_tour", login="admin")

    def test_blocked_serial_warning_is_whole(self):
        rma = self._received_rma(["PB14-2026-00101"])
        lot = rma.line_ids.lot_id
        self.env["stock.lot"]._rma_block(rma.line_ids)
        self.assertTrue(lot.is_rma_blocked)
        self.start_tour(
            f"/odoo/action-stock.action_production_lot_form/{lot.id}", "rma_recovery_blocked_serial_tour", login="admin"
        )

    def test_receive_screen_from_validate_leads_back_to_the_receipt(self):
        self._deliver(self.customer, self.laptop, ["PB14-2026-00201"])
        rma = self._authorized_rma(self.customer, self.reason, self.laptop, ["PB14-2026-00201"])
        picking = rma.receipt_picking_ids
        self.assertIn("RMA", picking.name)
        self.start_tour(
            f"/odoo/action-stock.action_picking_tree_all/{picking.id}",
            "rma_recovery_validate_breadcrumb_tour",
            login="admin",
        )
