from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import Form, HttpCase, tagged

from .common_disposition import RmaDispositionCommon
from .common_rpc import USER_ERROR, RmaRpcMixin

COST = 500.0
NRV = 450.0


class RmaRemedyDeliveryCommon(RmaDispositionCommon):
    """Two units of one product on an RMA, each owed a replacement or its repaired self back."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.warranty_account = cls.company.rma_warranty_account_id
        cls.stock_user = cls._new_user("rma_remedy_stock_user", "stock.group_stock_user")

    def _replacement_rma(self, prefix, advance=False):
        """Two units of one product sold, returned and to be replaced (received, inspected and confirmed unless the
        customer gets ``advance`` replacements), two new units in stock for them."""
        product = self._new_product("fifo")
        serials = [f"{prefix}-OLD1", f"{prefix}-OLD2"]
        order = self._sold_and_invoiced(COST, product, serials)
        self._purchase(product, [f"{prefix}-NEW1", f"{prefix}-NEW2"], COST)
        self.company.action_close_stock_valuation(auto_post=True)  # no vendor bill: align the purchase
        self.customer.rma_advance_remedy = advance
        rma = self._rma_for(order, product, serials, remedy="replacement")
        if not advance:
            self._received_and_inspected(rma)
            self._confirm(rma.line_ids, "replacement")
        new_lots = self.env["stock.lot"].search([("name", "in", [f"{prefix}-NEW1", f"{prefix}-NEW2"])], order="name")
        return rma, new_lots

    def _repaired_rma(self, prefix):
        """Two units of one product returned for repair, repaired and waiting in graded stock."""
        product = self._new_product("fifo")
        serials = [f"{prefix}-1", f"{prefix}-2"]
        order = self._sold_and_invoiced(COST, product, serials)
        rma = self._rma_for(order, product, serials, remedy="repair_return")
        lines = self._received_and_inspected(rma)
        self._confirm(lines, "repair_return")
        self._dispose(lines, self.code["REP"], repair_level="l1", net_realizable_value=NRV)
        for repair in lines.repair_id:
            repair.action_repair_start()
            repair.action_repair_end()
        self.assertEqual(lines.mapped("state"), ["ready", "ready"])
        return rma

    def _pick(self, move, lot=None, quantity=1.0):
        """Pick ``quantity`` of ``move`` (the serial ``lot``) in place of what Odoo reserved."""
        move.move_line_ids.unlink()
        move.write(
            {
                "move_line_ids": [
                    Command.create(
                        {
                            "product_id": move.product_id.id,
                            "lot_id": lot.id if lot else False,
                            "quantity": quantity,
                            "location_id": move.location_id.id,
                            "location_dest_id": move.location_dest_id.id,
                        }
                    )
                ],
                "picked": True,
            }
        )

    def _validate(self, picking, backorder=None):
        """Validate ``picking`` as warehouse staff; ``backorder``: True or False answers Odoo's backorder question."""
        action = picking.with_user(self.stock_user).button_validate()
        if backorder is not None:
            wizard = Form.from_action(self.env(user=self.stock_user), action).save()
            if backorder:
                wizard.process()
            else:
                wizard.process_cancel_backorder()
        self.assertEqual(picking.state, "done")

    def _remedy_moves(self, lines):
        return self.env["stock.move"].search([("rma_remedy_line_id", "in", lines.ids)], order="id")

    def _warranty_lines(self, lines):
        return self.env["account.move.line"].search(
            [("account_id", "=", self.warranty_account.id), ("rma_line_id", "in", lines.ids)], order="id"
        )

    def _assert_one_move_per_unit(self, lines, picking):
        self.assertEqual(len(picking.move_ids), len(lines), "one move per unit")
        for line in lines:
            self.assertEqual(line.remedy_move_id.picking_id, picking)
            self.assertEqual(self._remedy_moves(line), line.remedy_move_id)
        self.assertEqual(lines.remedy_move_id, picking.move_ids)


@tagged("post_install", "-at_install")
class TestRmaRemedyDelivery(RmaRemedyDeliveryCommon):
    """Remedy documents per unit: replacements and shipments back keep one move per unit through Odoo's
    merges, backorders and splits; each unit keeps its link, its warranty entry and its remedy status; a second
    click creates nothing."""

    def test_two_replacements_of_one_product_keep_a_move_each(self):
        rma, new_lots = self._replacement_rma("I18-RPL")
        lines = rma.line_ids
        rma.with_user(self.rma_user).action_create_replacement()
        picking = rma.remedy_picking_ids
        self._assert_one_move_per_unit(lines, picking)
        self.assertFalse(rma.has_replacement_to_do)

        # A second click ships no third unit.
        with self.assertRaisesRegex(UserError, "No unit of these RMAs is to get a Replacement"):
            rma.with_user(self.rma_user).action_create_replacement()
        with self.assertRaisesRegex(UserError, "already got their Replacement"):
            lines.rma_id.with_user(self.rma_user)._create_replacements(lines)
        self.assertEqual(rma.remedy_picking_ids, picking)
        self.assertEqual(len(self._remedy_moves(lines)), 2)

        before = self._values()
        for line, lot in zip(lines, new_lots, strict=True):
            self._pick(line.remedy_move_id, lot)
        self._validate(picking)
        self._assert_step_balanced(before, self._values())
        self.assertRecordValues(
            self._warranty_lines(lines).sorted("rma_line_id"),
            [
                {"rma_line_id": lines[0].id, "debit": COST, "credit": 0.0, "parent_state": "posted"},
                {"rma_line_id": lines[1].id, "debit": COST, "credit": 0.0, "parent_state": "posted"},
            ],
        )
        self.assertEqual(lines.mapped("remedy_state"), ["done", "done"])
        self.assertFalse(rma.has_replacement_to_do)
        with self.assertRaisesRegex(UserError, "No unit of these RMAs is to get a Replacement"):
            rma.with_user(self.rma_user).action_create_replacement()

        # The returned units are restocked: the RMA closes.
        self._dispose(lines, self.code["RTS"])
        self.assertEqual(rma.state, "done")
        self.assertAlmostEqual(sum(self._warranty_lines(lines).mapped("balance")), 2 * COST)
        self.assertFalse(self.company._action_close_stock_valuation(), "stock and ledger agree")

    def test_ship_back_two_repaired_units_of_one_product(self):
        rma = self._repaired_rma("I18-RR")
        lines = rma.line_ids
        rma.with_user(self.rma_user).action_ship_back()
        picking = rma.remedy_picking_ids
        self._assert_one_move_per_unit(lines, picking)
        for line in lines:
            self.assertRecordValues(
                line.remedy_move_id,
                [{"rma_remedy_line_id": line.id, "location_id": self.graded_location.id, "state": "assigned"}],
            )
            self.assertEqual(line.remedy_move_id.move_line_ids.lot_id, line.lot_id, "the customer's own unit")
        with self.assertRaisesRegex(UserError, "No unit of these RMAs is to get a Repair and Return"):
            rma.with_user(self.rma_user).action_ship_back()
        self.assertEqual(len(self._remedy_moves(lines)), 2)

        before = self._values()
        picking.move_ids.picked = True
        self._validate(picking)
        self._assert_step_balanced(before, self._values())
        for line in lines:
            self.assertEqual(line.state, "closed")
            self.assertEqual(line.custody_event_ids.sorted("sequence")[-2].event_type, "shipment")
            shipped = line.account_move_line_ids.filtered(lambda aml: "SHIPPED BACK" in aml.name)
            self.assertRecordValues(
                shipped.sorted("debit", reverse=True),
                [
                    {"account_id": self.cogs_account.id, "debit": NRV, "credit": 0.0},
                    {"account_id": self.stock_valuation_account.id, "debit": 0.0, "credit": NRV},
                ],
            )
        self.assertEqual(lines.mapped("remedy_state"), ["done", "done"])
        self.assertEqual(rma.state, "done")
        self.assertFalse(self.company._action_close_stock_valuation(), "stock and ledger agree")

    def test_backorder_of_a_replacement_keeps_the_unit_link(self):
        rma, new_lots = self._replacement_rma("I18-BO", advance=True)
        first, second = rma.line_ids
        rma.with_user(self.rma_user).action_create_replacement()
        picking = rma.remedy_picking_ids
        self._assert_one_move_per_unit(rma.line_ids, picking)

        # One unit leaves today, the other in a backorder.
        self._pick(first.remedy_move_id, new_lots[0])
        self._validate(picking, backorder=True)
        backorder = rma.remedy_picking_ids - picking
        self.assertRecordValues(backorder, [{"backorder_id": picking.id, "rma_remedy_id": rma.id}])
        self.assertRecordValues(
            second.remedy_move_id, [{"picking_id": backorder.id, "rma_remedy_line_id": second.id, "state": "assigned"}]
        )
        self.assertEqual(first.remedy_move_id.picking_id, picking)
        self.assertEqual((first.remedy_state, second.remedy_state), ("done", "pending"))
        self.assertEqual(self._warranty_lines(rma.line_ids).rma_line_id, first)
        self.assertFalse(rma.has_replacement_to_do)
        with self.assertRaisesRegex(UserError, "No unit of these RMAs is to get a Replacement"):
            rma.with_user(self.rma_user).action_create_replacement()

        self._pick(second.remedy_move_id, new_lots[1])
        self._validate(backorder)
        self.assertRecordValues(
            self._warranty_lines(rma.line_ids),
            [{"rma_line_id": first.id, "debit": COST}, {"rma_line_id": second.id, "debit": COST}],
        )
        self.assertEqual(rma.line_ids.mapped("remedy_state"), ["done", "done"])
        self.assertEqual(len(self._remedy_moves(rma.line_ids)), 2)

    def test_replacement_of_an_untracked_unit_delivered_in_parts(self):
        """A unit of three cables replaced: two deliveries split off by backorders, the last part cancelled and
        shipped again. Each part posts its warranty entry; the remedy is done when the three are delivered."""
        product = self._new_product("fifo")
        product.tracking = "none"
        product.standard_price = 20.0
        self.env["stock.quant"].create(
            {"product_id": product.id, "location_id": self.stock_location.id, "inventory_quantity": 10.0}
        ).action_apply_inventory()
        self._deliver(self.customer, product, quantity=3, from_stock=True)
        self.customer.rma_advance_remedy = True
        rma = self._create_rma([(product, False, 3)])
        line = rma.line_ids
        line.remedy_requested = "replacement"
        rma.with_user(self.rma_manager).action_authorize()
        rma.with_user(self.rma_user).action_create_replacement()
        picking = rma.remedy_picking_ids
        self.assertRecordValues(picking.move_ids, [{"product_uom_qty": 3.0, "rma_remedy_line_id": line.id}])

        # One now, the rest in a backorder: the split-off move is still the unit's.
        self._pick(picking.move_ids, quantity=1.0)
        self._validate(picking, backorder=True)
        backorder = rma.remedy_picking_ids - picking
        self.assertRecordValues(
            self._remedy_moves(line),
            [
                {"picking_id": picking.id, "product_uom_qty": 1.0, "state": "done"},
                {"picking_id": backorder.id, "product_uom_qty": 2.0, "state": "assigned"},
            ],
        )
        self.assertEqual(line.remedy_state, "pending")
        self.assertRecordValues(self._warranty_lines(line), [{"debit": 20.0}])
        with self.assertRaisesRegex(UserError, "No unit of these RMAs is to get a Replacement"):
            rma.with_user(self.rma_user).action_create_replacement()

        # One more, and no backorder for the last: the unit is owed that one, shipped on its own.
        self._pick(backorder.move_ids, quantity=1.0)
        self._validate(backorder, backorder=False)
        self.assertEqual(line.remedy_state, "pending")
        self.assertTrue(rma.has_replacement_to_do)
        rma.with_user(self.rma_user).action_create_replacement()
        rest = rma.remedy_picking_ids - picking - backorder
        self.assertRecordValues(rest.move_ids, [{"product_uom_qty": 1.0, "rma_remedy_line_id": line.id}])
        with self.assertRaisesRegex(UserError, "No unit of these RMAs is to get a Replacement"):
            rma.with_user(self.rma_user).action_create_replacement()
        self._pick(rest.move_ids, quantity=1.0)
        self._validate(rest)
        self.assertEqual(line.remedy_state, "done")
        self.assertEqual(line.remedy_move_id, rest.move_ids)
        self.assertEqual(self._warranty_lines(line).mapped("debit"), [20.0, 20.0, 20.0])


@tagged("post_install", "-at_install")
class TestRmaRemedyDeliveryRpc(RmaRpcMixin, RmaRemedyDeliveryCommon, HttpCase):
    """Each remedy action called a second time over JSON-RPC (with the forged context of the RPC security tests)
    creates nothing: the second call is refused with a UserError."""

    def test_second_rpc_call_of_each_remedy_action_creates_nothing(self):
        product = self._new_product("fifo")
        serials = ["I18-RPC-CN1", "I18-RPC-CN2"]
        order = self._sold_and_invoiced(COST, product, serials)
        refund_rma = self._rma_for(order, product, serials)
        self._received_and_inspected(refund_rma)
        self._confirm(refund_rma.line_ids, "refund")
        replacement_rma, __ = self._replacement_rma("I18-RPC-RPL")
        ship_back_rma = self._repaired_rma("I18-RPC-RR")

        for rma, method in (
            (refund_rma, "action_create_credit_note"),
            (replacement_rma, "action_create_replacement"),
            (ship_back_rma, "action_ship_back"),
        ):
            with self.subTest(method=method):
                self.assertNotIn("error", self._call(self.rma_user, "rma.order", method, rma.ids))
                documents = (rma.line_ids.credit_note_line_id, self._remedy_moves(rma.line_ids))
                self.assertEqual(len(documents[0] or documents[1]), 2, "one credit note line or one move per unit")
                self.assertRefused(self._call(self.rma_user, "rma.order", method, rma.ids), USER_ERROR)
                self.assertEqual((rma.line_ids.credit_note_line_id, self._remedy_moves(rma.line_ids)), documents)
                self.assertEqual(len(rma.credit_note_ids) + len(rma.remedy_picking_ids), 1)
