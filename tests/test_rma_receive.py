from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import RmaCommon
from .common_rpc import FORGED_CONTEXT, RmaRpcCommon


@tagged("post_install", "-at_install")
class TestRmaReceive(RmaCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.quarantine = cls.warehouse.rma_quarantine_location_id
        cls.laptop.standard_price = 800.0

    def _counts(self):
        return (
            self.env["stock.move"].search_count([("rma_line_id", "!=", False)]),
            self.env["rma.custody.event"].search_count([]),
            self.env["rma.line"].search_count([]),
        )

    def _quant_locations(self, lot):
        quants = self.env["stock.quant"].search([("lot_id", "=", lot.id), ("quantity", ">", 0)])
        return quants.location_id

    def test_return_locations_per_warehouse(self):
        warehouse = self.warehouse
        self.assertRecordValues(
            warehouse.rma_quarantine_location_id | warehouse.rma_graded_location_id,
            [
                {"usage": "internal", "location_id": warehouse.view_location_id.id, "company_id": self.company.id},
                {"usage": "internal", "location_id": warehouse.view_location_id.id, "company_id": self.company.id},
            ],
        )
        for field_name in (
            "rma_refurbish_location_id",
            "rma_repair_location_id",
            "rma_harvest_location_id",
            "rma_recycle_location_id",
            "rma_destruction_location_id",
        ):
            # Outside the company's stock, under the company's top-level Returns view: Odoo's lookups of *the*
            # inventory loss location (repair, stock_account) keep finding the company's own first.
            self.assertRecordValues(
                warehouse[field_name],
                [
                    {
                        "usage": "inventory",
                        "company_id": self.company.id,
                        "location_id": self.company.rma_location_view_id.id,
                    }
                ],
            )
        inventory_loss = self.env["stock.location"].search(
            [("usage", "=", "inventory"), ("company_id", "=", self.company.id)]
        )
        self.assertNotIn(
            inventory_loss[:1], warehouse._rma_outside_locations(), "the company's own inventory adjustment comes first"
        )
        self.assertFalse(
            warehouse.rma_quarantine_location_id._child_of(warehouse.lot_stock_id),
            "quarantine must not be part of the stock deliveries reserve from",
        )
        self.assertRecordValues(
            warehouse.rma_receipt_type_id,
            [
                {
                    "code": "incoming",
                    "default_location_src_id": self.customer_location.id,
                    "default_location_dest_id": warehouse.rma_quarantine_location_id.id,
                }
            ],
        )
        second = self.env["stock.warehouse"].create({"name": "Second depot", "code": "DEP2"})
        self.assertTrue(second.rma_quarantine_location_id)
        self.assertNotEqual(second.rma_quarantine_location_id, warehouse.rma_quarantine_location_id)
        second.action_archive()
        self.assertFalse(second.rma_quarantine_location_id.active)
        self.assertFalse(second.rma_destruction_location_id.active)
        self.assertFalse(second.rma_receipt_type_id.active)
        second.action_unarchive()
        self.assertTrue(second.rma_quarantine_location_id.active)

    def test_receive_by_scanning(self):
        rma = self._authorized_rma(["RC-0001", "RC-0002"])
        first, second = rma.line_ids
        answer = self._scan(rma.name, user=self.rma_user)
        self.assertEqual(answer["rma"]["id"], rma.id)
        self.assertEqual([line["state"] for line in answer["lines"]], ["authorized", "authorized"])

        answer = self._scan("rc-0001", rma=rma, user=self.rma_user, station="DOCK-7")
        self.assertEqual(answer["level"], "success")
        self.assertRecordValues(
            first,
            [
                {
                    "state": "received",
                    "received_by_id": self.rma_user.id,
                    "receipt_station": "DOCK-7",
                    "location_id": self.quarantine.id,
                    "is_substitution": False,
                }
            ],
        )
        self.assertTrue(first.received_date)
        self.assertEqual(second.state, "authorized")
        self.assertEqual(rma.state, "in_progress")
        self.assertEqual(self._quant_locations(first.lot_id), self.quarantine)

        move = first.receipt_move_ids
        self.assertRecordValues(
            move,
            [
                {
                    "state": "done",
                    "location_id": self.customer_location.id,
                    "location_dest_id": self.quarantine.id,
                    "origin_returned_move_id": first.delivery_move_id.id,
                    "reference": rma.name,
                    "picking_type_id": self.warehouse.rma_receipt_type_id.id,
                }
            ],
        )
        self.assertEqual(move.move_line_ids.lot_id, first.lot_id)
        # Valued at the original delivery's cost per unit (the delivery shipped two units).
        self.assertAlmostEqual(move.value, first.delivery_move_id.value / 2)
        self.assertAlmostEqual(move.value, 800.0)

        self.assertRecordValues(
            first.custody_event_ids,
            [
                {
                    "sequence": 1,
                    "event_type": "receipt",
                    "user_id": self.rma_user.id,
                    "station": "DOCK-7",
                    "scanned_code": "rc-0001",
                    "location_id": self.customer_location.id,
                    "location_dest_id": self.quarantine.id,
                    "lot_id": first.lot_id.id,
                }
            ],
        )

    def test_quarantine_is_not_available_for_deliveries(self):
        rma = self._authorized_rma(["RC-0101"])
        self._scan(rma.name, "RC-0101")
        self.assertEqual(self.env["stock.quant"]._get_available_quantity(self.laptop, self.stock_location), 0)
        delivery = self.env["stock.picking"].create(
            {
                "partner_id": self.other_customer.id,
                "picking_type_id": self.warehouse.out_type_id.id,
                "location_id": self.stock_location.id,
                "location_dest_id": self.customer_location.id,
                "move_ids": [
                    Command.create(
                        {
                            "product_id": self.laptop.id,
                            "product_uom_qty": 1,
                            "location_id": self.stock_location.id,
                            "location_dest_id": self.customer_location.id,
                        }
                    )
                ],
            }
        )
        delivery.action_confirm()
        delivery.action_assign()
        self.assertEqual(delivery.state, "confirmed", "nothing to reserve: the unit is in quarantine")

    def test_substitution_is_held_not_valued_as_expected_unit(self):
        rma = self._authorized_rma(["RC-0201"])
        # A unit we sold to somebody else arrives in the parcel instead.
        self._deliver(self.other_customer, self.laptop, ["RC-OTHER"])
        answer = self._scan(rma.name, "RC-OTHER")
        self.assertEqual(answer["level"], "warning")
        self.assertIn("substitution", answer["message"])
        substitute = rma.line_ids.filtered("is_substitution")
        self.assertRecordValues(
            substitute,
            [{"serial_number": "RC-OTHER", "state": "received", "location_id": self.quarantine.id}],
        )
        # Authorized through the state machine as every unit is: dated, so the return rate counts it.
        self.assertTrue(substitute.authorized_date)
        self.assertLessEqual(substitute.authorized_date, substitute.received_date)
        self.assertFalse(substitute.receipt_move_ids.origin_returned_move_id)
        self.assertEqual(rma.line_ids.filtered(lambda line: not line.is_substitution).state, "authorized")
        self.assertEqual(substitute.custody_event_ids.note, "Substitution suspected")
        with self.assertRaisesRegex(UserError, "substitution"):
            substitute.with_user(self.rma_inspector).action_start_inspection()
        with self.assertRaises(AccessError):
            substitute.with_user(self.rma_user).action_accept_substitution()
        substitute.with_user(self.rma_manager).action_accept_substitution()
        self.assertFalse(substitute.is_substitution)
        self.assertEqual(substitute.custody_event_ids[0].event_type, "status")
        substitute.with_user(self.rma_inspector).action_start_inspection()
        self.assertEqual(substitute.state, "inspection")

    def test_bad_scans_write_nothing(self):
        rma = self._authorized_rma(["RC-0301"])
        self._scan(rma.name, "RC-0301")
        cancelled = self._authorized_rma(["RC-0302"])
        cancelled.action_cancel()
        before = self._counts()
        cases = [
            ((rma.name, "RC-0301"), "already received"),
            ((rma.name, "NOTHING-KNOWN"), "Nothing was recorded"),
            (("NOTHING-KNOWN",), "not an RMA number"),
            ((cancelled.name,), "only authorized RMAs"),
            ((rma.name, ""), "Scan or type"),
        ]
        for codes, message in cases:
            with self.subTest(codes=codes), self.assertRaisesRegex(UserError, message):
                self._scan(*codes)
        self.assertEqual(self._counts(), before)

    def test_untracked_quantity_and_over_receipt(self):
        self.cable.barcode = "CABLE-0001"
        self._deliver(self.customer, self.cable, quantity=5)
        rma = self._create_rma([(self.cable, False, 2)])
        rma.action_authorize()
        line = rma.line_ids
        self._scan(rma.name, "CABLE-0001")
        self.assertRecordValues(line, [{"quantity_received": 1, "state": "authorized"}])
        self._scan(rma.name, "CABLE-0001")
        self.assertRecordValues(line, [{"quantity_received": 2, "state": "received"}])
        self.assertEqual(sum(line.receipt_move_ids.mapped("quantity")), 2)
        before = self._counts()
        with self.assertRaisesRegex(UserError, "already received"):
            self._scan(rma.name, "CABLE-0001")
        self.assertEqual(self._counts(), before)
        bigger = self._create_rma([(self.cable, False, 2)])
        bigger.action_authorize()
        before = self._counts()
        with self.assertRaisesRegex(UserError, "Only 2.0 Units of Test Cable are still expected"):
            self.env["stock.picking"]._rma_receive(bigger.line_ids, quantity=3)
        self.assertEqual(self._counts(), before)

    def test_batch_receive(self):
        serials = [f"RC-1{index:03d}" for index in range(20)]
        rma = self._authorized_rma(serials)
        moves = self.env["stock.picking"]._rma_receive(rma.line_ids, station="BULK")
        self.assertEqual(len(moves), 20)
        self.assertEqual(set(rma.line_ids.mapped("state")), {"received"})
        self.assertEqual(moves.origin_returned_move_id, rma.line_ids.delivery_move_id)
        quants = self.env["stock.quant"].search([("lot_id", "in", rma.line_ids.lot_id.ids), ("quantity", ">", 0)])
        self.assertEqual(quants.location_id, self.quarantine)
        self.assertEqual(len(quants), 20)
        self.assertEqual(len(rma.line_ids.custody_event_ids), 20)

    def test_overridden_unknown_serial_gets_its_lot_at_receipt(self):
        rma = self._create_rma([(self.laptop, "NEVER-SEEN")])
        rma.line_ids._action_override("Sold through a partner; serial confirmed.")
        rma.action_authorize()
        self._scan(rma.name, "NEVER-SEEN", user=self.rma_user)  # warehouse staff at the dock
        self.assertEqual(rma.line_ids.lot_id.name, "NEVER-SEEN")
        self.assertEqual(self._quant_locations(rma.line_ids.lot_id), self.quarantine)

    def test_cancel_is_refused_once_units_arrived(self):
        rma = self._authorized_rma(["RC-0401"])
        self._scan(rma.name, "RC-0401")
        with self.assertRaises(UserError):
            rma.action_cancel()

    def test_receive_multi_company(self):
        rma = self._authorized_rma(["RC-0501"])
        other_company = self.env["res.company"].create({"name": "RMA Receiving Elsewhere"})
        outsider = self.env["res.users"].create(
            {
                "name": "Outsider",
                "login": "rma_outsider",
                "company_id": other_company.id,
                "company_ids": [Command.set(other_company.ids)],
                "group_ids": [Command.set(self.env.ref("rma_recovery.group_rma_user").ids)],
            }
        )
        with self.assertRaisesRegex(UserError, "not an RMA number"):
            self._scan(rma.name, user=outsider)

    def test_scans_match_exactly(self):
        rma = self._authorized_rma(["WC-0001", "WC-0002"])
        self._scan(rma.name)
        for typed in ("WC-%", "WC-000_", "%", "_", "\\"):
            with self.subTest(code=typed), self.assertRaisesRegex(UserError, "Nothing was recorded"):
                self._scan(typed, rma=rma)
        with self.assertRaisesRegex(UserError, "not an RMA number"):
            self._scan("RMA/%")
        self.assertEqual(set(rma.line_ids.mapped("state")), {"authorized"})
        self._scan("  wc-0002 ", rma=rma)  # trimmed, case-insensitive
        self.assertEqual(rma.line_ids.filtered(lambda line: line.serial_number == "WC-0002").state, "received")

    def test_ambiguous_substitute_serial_is_refused(self):
        rma = self._authorized_rma(["AM-0001"])
        desktop = self._create_product("Test Desktop", tracking="serial")
        self._deliver(self.other_customer, self.laptop, ["AM-TWIN"])
        self._deliver(self.other_customer, desktop, ["AM-TWIN"])
        with self.assertRaisesRegex(UserError, "several products.*Test (Laptop|Desktop).*Test (Laptop|Desktop)"):
            self._scan(rma.name, "AM-TWIN")
        self.assertEqual(len(rma.line_ids), 1)

    def test_serial_in_stock_is_never_received_again(self):
        rma = self._authorized_rma(["ST-0001"])
        lot = rma.line_ids.lot_id
        self.env["stock.quant"]._update_available_quantity(self.laptop, self.stock_location, 1, lot_id=lot)
        with self.assertRaisesRegex(UserError, "already in our stock"):
            self._scan(rma.name, "ST-0001")
        self.assertEqual(rma.line_ids.state, "authorized")
        # Nor as a substitution on another RMA.
        other = self._authorized_rma(["ST-0002"])
        with self.assertRaisesRegex(UserError, "already in our stock"):
            self._scan(other.name, "ST-0001")
        self.assertEqual(len(other.line_ids), 1)

    def test_serial_open_on_another_rma_is_refused_at_the_scan(self):
        expected_there = self._authorized_rma(["OP-0001"])
        here = self._authorized_rma(["OP-0002"])
        with self.assertRaisesRegex(UserError, f"open on {expected_there.name}"):
            self._scan(here.name, "OP-0001")
        self.assertEqual(len(here.line_ids), 1)
        self.assertEqual(expected_there.line_ids.state, "authorized")

    def test_scan_arguments_of_the_wrong_type_are_refused(self):
        rma = self._authorized_rma(["TY-0001"])
        scan = self.env["rma.scan"]
        for args, kwargs in (
            ((True,), {}),
            ((["TY-0001"],), {}),
            (({"code": "x"},), {}),
            ((12,), {}),
            ((None,), {}),
            (("\x00",), {}),
            (("TY-0001",), {"rma_id": "abc"}),
            (("TY-0001",), {"rma_id": [rma.id, rma.id]}),
            (("TY-0001",), {"rma_id": True}),
            (("TY-0001",), {"rma_id": rma.id, "station": {"dock": 1}}),
            (("TY-0001",), {"rma_id": rma.id, "station": ["DOCK"]}),
            (("TY-0001",), {"rma_id": rma.id, "station": 7}),
        ):
            for method in (scan.receive_scan, scan.custody_scan):
                with self.subTest(method=method.__name__, args=args, kwargs=kwargs):
                    if method == scan.custody_scan and "rma_id" in kwargs:
                        kwargs = {"line_id": kwargs["rma_id"], **{k: v for k, v in kwargs.items() if k != "rma_id"}}
                    with self.assertRaises(UserError):
                        method(*args, **kwargs)
        self.assertEqual(rma.line_ids.state, "authorized")
        self.assertTrue(self.env["rma.custody.event"]._check_integrity(self.company)["ok"])


@tagged("post_install", "-at_install")
class TestRmaReceiveRpc(RmaRpcCommon):
    """Receiving over JSON-RPC: only the scan receives, a substitution waits for a manager, and the forged context keys
    change no figure of the receipt."""

    def test_returns_user_cannot_receive_accept_or_dispose(self):
        rma = self._authorized_rma(["RPC-0101"])
        self._deliver(self.other_customer, self.laptop, ["RPC-0102"])
        self._scan(rma.name, "RPC-0101", "RPC-0102")  # the second is a substitution, held for a manager
        unit = rma.line_ids.filtered(lambda line: line.serial_number == "RPC-0101")
        held = rma.line_ids - unit
        self.assertTrue(held.is_substitution)
        receipt = unit.receipt_move_ids
        other_move = self.env["stock.move"].search([("rma_line_id", "=", False)], limit=1)
        for user in (self.rma_user, self.rma_inspector):
            with self.subTest(user=user.login):
                for model, method, args in [
                    ("rma.line", "action_accept_substitution", [held.ids]),
                    ("rma.line", "write", [held.ids, {"is_substitution": False}]),
                    ("rma.line", "write", [unit.ids, {"location_id": self.stock_location.id}]),
                    ("rma.line", "_transition", [unit.ids, "closed"]),
                    ("stock.move", "write", [other_move.ids, {"rma_line_id": unit.id}]),
                    ("stock.move", "write", [receipt.ids, {"rma_line_id": False}]),
                    ("rma.order", "action_reset_to_draft", [rma.ids]),
                ]:
                    self.assertRefused(self._call(user, model, method, *args))
        # Inspectors prepare dispositions (the wizard); a Returns User does not.
        self.assertRefused(self._call(self.rma_user, "rma.disposition.wizard", "create", {}))
        # A plain Inventory user (no Returns group) cannot attach a move to a returned unit or detach one either.
        stock_user = self._new_user("rpc_stock_user", "stock.group_stock_user")
        for move, value in ((other_move, unit.id), (receipt, False)):
            self.assertRefused(self._call(stock_user, "stock.move", "write", move.ids, {"rma_line_id": value}))
        self.assertTrue(held.is_substitution)
        self.assertEqual(unit.receipt_move_ids, receipt)
        self.assertFalse(other_move.rma_line_id)
        self.assertEqual(unit.location_id, self.quarantine)

    def test_forged_context_changes_no_figure(self):
        """A manager receives a unit over JSON-RPC with every cache key forged: the receipt is valued at the original
        delivery's cost and its entry is dated today."""
        product = self._new_product("fifo", "real_time")
        self._purchase(product, ["RPC-0301"], 500.0)
        delivery = self._deliver(self.customer, product, ["RPC-0301"], from_stock=True)
        rma = self._create_rma([(product, "RPC-0301")])
        rma.action_authorize()
        FORGED_CONTEXT["rma_valued_qty"] = [[delivery.move_ids.id, 99.0]]
        try:
            self.assertNotIn("error", self._call(self.rma_manager, "rma.scan", "receive_scan", rma.name))
            answer = self._call(self.rma_manager, "rma.scan", "receive_scan", "RPC-0301", rma_id=rma.id)
        finally:
            FORGED_CONTEXT["rma_valued_qty"] = [[1, 99.0]]
        self.assertNotIn("error", answer)
        line = rma.line_ids
        self.assertEqual(line.state, "received")
        self.assertAlmostEqual(line.receipt_move_ids.value, 500.0)
        entry = line.account_move_line_ids.move_id
        self.assertRecordValues(entry, [{"date": fields.Date.today(), "state": "posted"}])
        self.assertAlmostEqual(sum(line.account_move_line_ids.mapped("debit")), 500.0)
        # Disposed over JSON-RPC with the same forged keys: Odoo's valuation entry and the addon's are dated today.
        self._inspect(line)
        wizard = self._call(
            self.rma_manager,
            "rma.disposition.wizard",
            "create",
            {"line_ids": [Command.create({"unit_id": line.id, "disposition_id": self.code["SD"].id})]},
        )
        self.assertNotIn("error", wizard)
        self.assertNotIn(
            "error", self._call(self.rma_manager, "rma.disposition.wizard", "action_confirm", [wizard["result"]])
        )
        self.assertEqual(line.state, "disposition")
        entries = line.account_move_line_ids.move_id
        self.assertEqual(len(entries), 2, "the receipt entry and Odoo's valuation entry of the destruction")
        self.assertEqual(set(entries.mapped("date")), {fields.Date.today()})
