from datetime import timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common_disposition import RmaDispositionCommon
from .common_rpc import RmaRpcCommon

PRICE = 520.0


@tagged("post_install", "-at_install")
class TestRmaReceiptPicking(RmaDispositionCommon):
    """An authorized RMA is an expected arrival: its receipt is an Odoo picking, validated unit by unit."""

    def _receipt_type(self):
        return self.warehouse.rma_receipt_type_id

    def test_authorized_rma_is_an_expected_receipt(self):
        before_ready = self._receipt_type().count_picking_ready
        order = self._sold_and_invoiced(PRICE, self.laptop, ["PK-0001", "PK-0002"])
        rma = self._create_rma([(self.laptop, "PK-0001"), (self.laptop, "PK-0002")], sale_order_id=order.id)
        self.assertFalse(rma.receipt_picking_ids, "a request is not expected yet")
        rma.with_user(self.rma_manager).action_authorize()

        picking = rma.receipt_picking_ids
        self.assertRecordValues(
            picking,
            [
                {
                    "state": "assigned",
                    "picking_type_id": self._receipt_type().id,
                    "location_id": self.customer_location.id,
                    "location_dest_id": self.quarantine.id,
                    "partner_id": self.customer.id,
                    "origin": rma.name,
                    "rma_id": rma.id,
                    "sale_id": order.id,
                }
            ],
        )
        self.assertGreater(picking.scheduled_date, fields.Datetime.now() + timedelta(days=13))
        self.assertEqual(len(picking.move_ids), 2, "one move per unit, never merged")
        for move in picking.move_ids:
            unit = move.rma_line_id
            self.assertRecordValues(
                move,
                [
                    {
                        "product_uom_qty": 1.0,
                        "origin_returned_move_id": unit.delivery_move_id.id,
                        "sale_line_id": order.order_line.id,
                        "to_refund": True,
                        "state": "assigned",
                    }
                ],
            )
        self.assertEqual(rma.receipt_count, 1)
        self.assertEqual(rma.action_view_receipts()["res_id"], picking.id)
        self.assertIn(picking, order.picking_ids, "the sale order lists it with its transfers")

        # Inventory Overview: the RMA Receipts card counts it as To Receive; late once its date has passed.
        receipt_type = self._receipt_type()
        receipt_type.invalidate_recordset()
        self.assertEqual(receipt_type.count_picking_ready, before_ready + 1)
        late_before = receipt_type.count_picking_late
        picking.scheduled_date = fields.Datetime.now() - timedelta(days=1)
        receipt_type.invalidate_recordset()
        self.assertEqual(receipt_type.count_picking_late, late_before + 1)
        # Operations > Receipts lists it with the other incoming transfers.
        self.assertIn(picking, self.env["stock.picking"].search([("picking_type_code", "=", "incoming")]))

    def test_scans_validate_units_in_one_receipt_without_backorders(self):
        rma = self._authorized_rma(["PK-0101", "PK-0102", "PK-0103"])
        picking = rma.receipt_picking_ids
        self._scan(rma.name, "PK-0102")
        done = picking.move_ids.filtered(lambda move: move.state == "done")
        self.assertEqual(done.rma_line_id.serial_number, "PK-0102")
        self.assertEqual(done.move_line_ids.lot_id.name, "PK-0102")
        self.assertEqual(picking.state, "assigned", "still expecting two units")
        self.assertFalse(picking.backorder_ids)
        self.assertEqual(self.env["stock.quant"]._get_available_quantity(self.laptop, self.quarantine), 1)

        self._scan(rma.name, "PK-0101", "PK-0103")
        self.assertEqual(picking.state, "done")
        self.assertFalse(picking.backorder_ids)
        self.assertEqual(rma.receipt_picking_ids, picking, "one receipt for the RMA")
        self.assertEqual(set(picking.move_ids.mapped("state")), {"done"})
        self.assertEqual(len(picking.move_ids), 3)

    def test_untracked_partial_receipt_stays_in_its_receipt(self):
        self._deliver(self.customer, self.cable, quantity=5)
        rma = self._create_rma([(self.cable, None, 5)])
        rma.action_authorize()
        picking = rma.receipt_picking_ids
        self.env["stock.picking"]._rma_receive(rma.line_ids, quantity=2)
        self.assertRecordValues(
            picking.move_ids.sorted("id"),
            [
                {"state": "done", "quantity": 2.0, "product_uom_qty": 2.0},
                {"state": "assigned", "quantity": 3.0, "product_uom_qty": 3.0},
            ],
        )
        self.assertFalse(picking.backorder_ids)
        self.assertEqual(picking.state, "assigned")
        self.assertEqual(rma.line_ids.state, "authorized")
        with self.assertRaisesRegex(UserError, "whose units have not arrived"):
            rma.with_user(self.rma_manager).action_cancel()
        self.env["stock.picking"]._rma_receive(rma.line_ids, quantity=3)
        self.assertEqual(picking.state, "done")
        self.assertEqual(rma.line_ids.state, "received")
        self.assertEqual(self.env["stock.quant"]._get_available_quantity(self.cable, self.quarantine), 5)

    def test_validate_button_opens_the_receive_screen(self):
        rma = self._authorized_rma(["PK-0201"])
        picking = rma.receipt_picking_ids
        action = picking.button_validate()
        self.assertEqual(action["tag"], "rma_recovery.receive")
        self.assertEqual(action["params"], {"rma_id": rma.id})
        picking.move_ids.picked = True
        with self.assertRaisesRegex(UserError, "Receive the units of an RMA by scanning them"):
            picking._action_done()
        self.assertEqual(rma.line_ids.state, "authorized")

        # The screen Validate opened scans the unit: the receipt is done, dated by the scan.
        scan_time = fields.Datetime.now() + timedelta(hours=2)
        with freeze_time(scan_time):
            self._scan("PK-0201", rma=rma, user=self.rma_user)
        self.assertRecordValues(picking, [{"state": "done", "date_done": scan_time, "scheduled_date": scan_time}])
        self.assertEqual(picking.move_ids.date, scan_time)

    def test_each_scan_dates_its_move_and_the_last_one_the_receipt(self):
        """Done RMA receipts carry their Effective Date: the time of the scan that completed them; their moves the
        time of their own scans; the scheduled date (the customer's shipping time ahead) is not left in the
        future."""
        rma = self._authorized_rma(["PK-0701", "PK-0702"])
        picking = rma.receipt_picking_ids
        first_scan = fields.Datetime.now() + timedelta(hours=1)
        last_scan = first_scan + timedelta(days=1, minutes=7)
        self.assertGreater(picking.scheduled_date, last_scan, "expected after the customer's shipping days")

        with freeze_time(first_scan):
            self._scan(rma.name, "PK-0702", user=self.rma_user)
        first_move = picking.move_ids.filtered(lambda move: move.state == "done")
        self.assertRecordValues(first_move, [{"date": first_scan}])
        self.assertRecordValues(picking, [{"state": "assigned", "date_done": False}])
        self.assertGreater(picking.scheduled_date, last_scan, "the other unit is still expected on the same date")

        with freeze_time(last_scan):
            self._scan(rma.name, "PK-0701", user=self.rma_user)
        self.assertRecordValues(picking, [{"state": "done", "date_done": last_scan, "scheduled_date": last_scan}])
        self.assertRecordValues(
            picking.move_ids.sorted(lambda move: move.rma_line_id.serial_number),
            [{"state": "done", "date": last_scan}, {"state": "done", "date": first_scan}],
        )

    def test_batch_receipt_dates_its_receipts(self):
        first = self._authorized_rma(["PK-0801", "PK-0802"])
        second = self._authorized_rma(["PK-0803"])
        scan_time = fields.Datetime.now() + timedelta(minutes=30)
        with freeze_time(scan_time):
            self.env["stock.picking"]._rma_receive((first | second).line_ids, station="DOCK-1")
        pickings = (first | second).receipt_picking_ids
        self.assertEqual(len(pickings), 2)
        self.assertRecordValues(pickings, [{"state": "done", "date_done": scan_time, "scheduled_date": scan_time}] * 2)
        self.assertEqual(pickings.move_ids.mapped("date"), [scan_time] * 3)

    def test_late_receipt_keeps_its_scheduled_date(self):
        rma = self._authorized_rma(["PK-0901"])
        picking = rma.receipt_picking_ids
        scheduled = picking.scheduled_date
        scan_time = scheduled + timedelta(days=3)
        with freeze_time(scan_time):
            self._scan(rma.name, "PK-0901")
        self.assertRecordValues(picking, [{"state": "done", "date_done": scan_time, "scheduled_date": scheduled}])

    def test_partial_untracked_receipt_is_dated_when_complete(self):
        self._deliver(self.customer, self.cable, quantity=5)
        rma = self._create_rma([(self.cable, None, 5)])
        rma.action_authorize()
        picking = rma.receipt_picking_ids
        first_scan = fields.Datetime.now() + timedelta(hours=1)
        last_scan = first_scan + timedelta(hours=3)
        with freeze_time(first_scan):
            self.env["stock.picking"]._rma_receive(rma.line_ids, quantity=2)
        self.assertFalse(picking.date_done)
        with freeze_time(last_scan):
            self.env["stock.picking"]._rma_receive(rma.line_ids, quantity=3)
        self.assertRecordValues(picking, [{"state": "done", "date_done": last_scan, "scheduled_date": last_scan}])
        self.assertEqual(sorted(picking.move_ids.mapped("date")), [first_scan, last_scan])

    def test_substitution_is_its_own_move_and_not_refunded(self):
        rma = self._authorized_rma(["PK-0301"])
        self._deliver(self.other_customer, self.laptop, ["PK-0399"])
        self._scan(rma.name, "PK-0399")
        picking = rma.receipt_picking_ids
        substitute = picking.move_ids.filtered(lambda move: move.rma_line_id.is_substitution)
        self.assertRecordValues(
            substitute,
            [{"state": "done", "to_refund": False, "origin_returned_move_id": False, "sale_line_id": False}],
        )
        self.assertEqual(picking.state, "assigned", "the authorized unit is still expected")

    def test_cancelling_the_rma_cancels_its_receipt(self):
        rma = self._authorized_rma(["PK-0401"])
        picking = rma.receipt_picking_ids
        rma.with_user(self.rma_manager).action_cancel()
        self.assertEqual(picking.state, "cancel")
        self.assertEqual(rma.state, "cancel")
        # Set back to requested and authorized again: a new receipt.
        rma.with_user(self.rma_manager).action_reset_to_draft()
        rma.with_user(self.rma_manager).action_authorize()
        self.assertEqual(len(rma.receipt_picking_ids), 2)
        self.assertEqual(rma.receipt_picking_ids.filtered(lambda p: p.state != "cancel").state, "assigned")

    def test_sale_order_delivered_quantity_and_credit_note(self):
        """Received through its RMA, the unit is no longer delivered: the sale order offers a credit note, which
        reverses no COGS (the RMA receipt entry did, once)."""
        product = self._new_product("fifo", "real_time")
        product.invoice_policy = "delivery"
        order = self._sold_and_invoiced(PRICE, product, ["PK-0501"])
        sale_line = order.order_line
        self.assertEqual(sale_line.qty_delivered, 1.0)
        rma = self._create_rma([(product, "PK-0501")], sale_order_id=order.id)
        rma.action_authorize()
        self.assertEqual(sale_line.qty_delivered, 1.0, "not received yet")
        self._scan(rma.name, "PK-0501")
        self.assertEqual(sale_line.qty_delivered, 0.0)
        self.assertEqual(sale_line.qty_to_invoice, -1.0)

        before = self._values()
        refund = order._create_invoices(final=True)
        self.assertEqual(refund.move_type, "out_refund")
        refund.action_post()
        self.assertFalse(refund.line_ids.filtered(lambda aml: aml.display_type == "cogs"), "no second reversal")
        self._assert_step_balanced(before, self._values())
        cogs = self.env["account.move.line"].search(
            [
                ("account_id", "=", self.cogs_account.id),
                ("product_id", "=", product.id),
                ("parent_state", "=", "posted"),
            ]
        )
        self.assertAlmostEqual(sum(cogs.mapped("balance")), 0.0, msg="sold, returned: no cost of goods sold left")
        self.assertFalse(self.company._action_close_stock_valuation(), "stock and ledger agree")

    def test_traceability_shows_the_return(self):
        product = self._new_product("fifo", "real_time")
        unit = self._inspected_units(product, ["PK-0601"])
        self._dispose(unit, self.code["REF"], net_realizable_value=400.0)
        unit.with_user(self.rma_inspector).action_finish_refurbishment()
        lot = unit.lot_id
        lines = self.env["stock.traceability.report"].with_context(active_id=lot.id, model="stock.lot").get_lines()
        references = [line["reference"] for line in sorted(lines, key=lambda line: line["id"], reverse=True)]
        self.assertIn(unit.delivery_move_id.picking_id.name, references)
        self.assertIn(unit.rma_id.receipt_picking_ids.name, references)
        self.assertIn(unit.disposition_batch_id.name, references)
        self.assertIn(unit.rma_id.name, references, "the end of the refurbishment, under the RMA")


@tagged("post_install", "-at_install")
class TestRmaReceiptPickingRpc(RmaRpcCommon):
    """The RMA's receipt over JSON-RPC: never validated as a whole, never detached from its RMA."""

    def test_rma_receipt_is_not_validated_as_a_whole_over_rpc(self):
        rma = self._authorized_rma(["RPC-R001"])
        picking = rma.receipt_picking_ids
        stock_manager = self._new_user("rpc_stock_manager", "stock.group_stock_manager")
        answer = self._call(stock_manager, "stock.picking", "button_validate", picking.ids)
        self.assertEqual(answer["result"]["tag"], "rma_recovery.receive", "Validate opens the Receive screen")
        self.assertRefused(self._call(stock_manager, "stock.picking", "write", picking.ids, {"rma_id": False}))
        self.assertRefused(
            self._call(stock_manager, "stock.move", "write", picking.move_ids.ids, {"rma_line_id": False})
        )
        self.assertEqual(picking.state, "assigned")
        self.assertEqual(rma.line_ids.state, "authorized")
