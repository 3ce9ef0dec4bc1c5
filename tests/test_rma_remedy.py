from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged

from .common_disposition import RmaDispositionCommon
from .common_rpc import USER_ERROR, RmaRpcCommon

COST = 500.0
SALE_PRICE = 1000.0
RECOVERY = 35.0


@tagged("post_install", "-at_install")
class TestRmaRemedy(RmaDispositionCommon):
    """Remedies end to end: credit notes with restocking fees, replacements, repaired units shipped back, and the
    RMA that closes when its units and their remedies are done."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.accountant = cls._new_user("rma_accountant", "account.group_account_invoice")
        cls.fee_product = cls.env["product.product"].create({"name": "Test Restocking Fee", "type": "service"})
        cls.fee_rule = cls.env["rma.restocking.rule"].create(
            {
                "sequence": 1,
                "company_id": cls.company.id,
                "reason_ids": [(6, 0, cls.reason.ids)],
                "grade_ids": [(6, 0, cls.grade_a.ids)],
                "fee_type": "percent",
                "fee_percent": 15.0,
                "fee_product_id": cls.fee_product.id,
            }
        )
        cls.warranty_account = cls.company.rma_warranty_account_id

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------
    def _cogs_credits(self, product):
        """The posted lines that credit COGS for ``product``: each is a reversal of its cost of goods sold."""
        return self.env["account.move.line"].search(
            [
                ("account_id", "=", self.cogs_account.id),
                ("product_id", "=", product.id),
                ("parent_state", "=", "posted"),
                ("credit", ">", 0),
            ]
        )

    def _cogs_balance(self, product):
        lines = self.env["account.move.line"].search(
            [
                ("account_id", "=", self.cogs_account.id),
                ("product_id", "=", product.id),
                ("parent_state", "=", "posted"),
            ]
        )
        return sum(lines.mapped("balance"))

    def _validate_delivery(self, picking, lot=None):
        if lot:
            picking.move_ids.move_line_ids.unlink()
            picking.move_ids.write(
                {
                    "move_line_ids": [
                        (
                            0,
                            0,
                            {
                                "product_id": picking.move_ids.product_id.id,
                                "lot_id": lot.id,
                                "quantity": 1,
                                "location_id": picking.location_id.id,
                                "location_dest_id": picking.location_dest_id.id,
                            },
                        )
                    ]
                }
            )
        picking.move_ids.picked = True
        picking.button_validate()
        self.assertEqual(picking.state, "done")

    # ------------------------------------------------------------------
    # Refund
    # ------------------------------------------------------------------
    def test_credit_note_priced_from_the_invoice_with_restocking_fee(self):
        product = self._new_product("fifo")
        order = self._sold_and_invoiced(COST, product, ["CN-0001"], sale_price=SALE_PRICE, discount=10.0)
        invoice = order.invoice_ids
        rma = self._rma_for(order, product, ["CN-0001"])
        line = self._received_and_inspected(rma)
        self.assertTrue(line.is_restocking_fee_eligible)
        self._confirm(line, "refund")
        self.assertRecordValues(line, [{"remedy": "refund", "remedy_confirmed_by_id": self.rma_manager.id}])

        credit_notes_before = self.env["account.move"].search_count([("move_type", "=", "out_refund")])
        rma.with_user(self.rma_user).action_create_credit_note()
        refund = line.credit_note_id
        self.assertEqual(
            self.env["account.move"].search_count([("move_type", "=", "out_refund")]), credit_notes_before + 1
        )
        self.assertRecordValues(
            refund,
            [
                {
                    "move_type": "out_refund",
                    "state": "draft",
                    "partner_id": self.customer.id,
                    "currency_id": invoice.currency_id.id,
                    "reversed_entry_id": invoice.id,
                    "invoice_origin": rma.name,
                }
            ],
        )
        # The unit at its invoiced price, discount and taxes; the fee at 15 % of the discounted price, as income.
        self.assertRecordValues(
            refund.invoice_line_ids.sorted("price_unit", reverse=True),
            [
                {
                    "product_id": product.id,
                    "quantity": 1.0,
                    "price_unit": SALE_PRICE,
                    "discount": 10.0,
                    "tax_ids": invoice.invoice_line_ids.tax_ids.ids,
                    "account_id": invoice.invoice_line_ids.account_id.id,
                    "rma_line_id": line.id,
                    "sale_line_ids": order.order_line.ids,
                },
                {
                    "product_id": self.fee_product.id,
                    "quantity": 1.0,
                    "price_unit": -135.0,
                    "discount": 0.0,
                    "tax_ids": self.fee_product.taxes_id._filter_taxes_by_company(line.company_id).ids,
                    "account_id": refund.invoice_line_ids.filtered(
                        lambda aml: aml.product_id == self.fee_product
                    ).account_id.id,
                    "rma_line_id": line.id,
                    "sale_line_ids": [],
                },
            ],
        )
        self.assertEqual(line.remedy_state, "pending")

        # The unit is restocked: closed, but its RMA waits for the posted credit note.
        self._dispose(line, self.code["RTS"])
        self.assertEqual(line.state, "closed")
        self.assertEqual(rma.state, "in_progress")

        # Warehouse staff draft; only accountants post.
        with self.assertRaises(AccessError):
            refund.with_user(self.rma_user).action_post()
        before = self._values()
        refund.with_user(self.accountant).action_post()
        self.assertFalse(refund.line_ids.filtered(lambda aml: aml.display_type == "cogs"), "the receipt reversed COGS")
        self._assert_step_balanced(before, self._values())
        self.assertEqual(line.remedy_state, "done")
        self.assertEqual(rma.state, "done")
        self.assertEqual(len(self._cogs_credits(product)), 1, "one COGS reversal: the receipt entry")
        self.assertAlmostEqual(self._cogs_balance(product), 0.0)
        self.assertFalse(self.company._action_close_stock_valuation(), "stock and ledger agree")

    def test_fixed_fee_in_the_invoice_currency_and_a_customer_credited_for_many_rmas(self):
        self.fee_rule.write({"fee_type": "fixed", "fee_amount": 40.0})
        product = self._new_product("average")
        first = self._sold_and_invoiced(COST, product, ["CN-0101"], sale_price=SALE_PRICE)
        second = self._sold_and_invoiced(COST, product, ["CN-0102"], sale_price=800.0)
        rmas = self._rma_for(first, product, ["CN-0101"]) | self._rma_for(second, product, ["CN-0102"])
        lines = self._received_and_inspected(rmas[0]) | self._received_and_inspected(rmas[1])
        self._confirm(lines, "refund")
        rmas.with_user(self.rma_user).action_create_credit_note()
        refund = lines.credit_note_id
        self.assertEqual(len(refund), 1, "one credit note per customer and currency")
        self.assertEqual(refund.invoice_origin, ", ".join(rmas.mapped("name")))
        self.assertEqual(
            sorted(refund.invoice_line_ids.mapped("price_unit")), [-40.0, -40.0, 800.0, SALE_PRICE], "a fee per unit"
        )

    def test_refund_bad_input_writes_nothing(self):
        product = self._new_product("fifo")
        order = self._sold_and_invoiced(COST, product, ["CN-0201"], sale_price=SALE_PRICE)
        rma = self._rma_for(order, product, ["CN-0201"])
        line = rma.line_ids

        # Not inspected, not confirmed, customer not allowed advance remedies.
        with self.assertRaisesRegex(UserError, "confirms the remedy"):
            rma.with_user(self.rma_user).action_create_credit_note()
        with self.assertRaisesRegex(UserError, "once the unit is inspected"):
            line.rma_id.with_user(self.rma_manager)._confirm_remedy(line, "refund")
        self._received_and_inspected(rma)
        with self.assertRaises(AccessError):
            line.rma_id.with_user(self.rma_user)._confirm_remedy(line, "refund")
        with self.assertRaisesRegex(UserError, "Choose a remedy"):
            line.rma_id.with_user(self.rma_manager)._confirm_remedy(line, "cash")
        self._confirm(line, "refund")

        # A restocking fee above the unit's price.
        moves_before = self.env["account.move"].search_count([])
        self.fee_rule.write({"fee_type": "fixed", "fee_amount": 1500.0})
        with self.assertRaisesRegex(UserError, "above its credited price"):
            rma.with_user(self.rma_user).action_create_credit_note()
        self.assertEqual(self.env["account.move"].search_count([]), moves_before)
        self.assertFalse(line.credit_note_line_id)

        # Credited once, not twice.
        self.fee_rule.write({"fee_amount": 50.0})
        rma.with_user(self.rma_user).action_create_credit_note()
        moves_after = self.env["account.move"].search_count([])
        with self.assertRaisesRegex(UserError, "already got their Refund"):
            line.rma_id.with_user(self.rma_user)._create_credit_notes(line)
        with self.assertRaises(UserError):
            rma.with_user(self.rma_user).action_create_credit_note()
        self.assertEqual(self.env["account.move"].search_count([]), moves_after)

        # Another remedy on a credited unit is refused; a rejected unit gets none.
        with self.assertRaisesRegex(UserError, "already got their remedy"):
            line.rma_id.with_user(self.rma_manager)._confirm_remedy(line, "replacement")
        rejected = self._create_rma([(product, "CN-0202")], sale_order_id=order.id)
        rejected.line_ids.remedy_requested = "replacement"
        rejected.with_user(self.rma_manager).action_reject("Not ours")
        self.customer.rma_advance_remedy = True
        with self.assertRaisesRegex(UserError, "only units of authorized RMAs"):
            rejected.with_user(self.rma_user)._create_replacements(rejected.line_ids)
        self.assertFalse(rejected.remedy_picking_ids)

    # ------------------------------------------------------------------
    # COGS reversed exactly once, whatever the order
    # ------------------------------------------------------------------
    def _credit_from_rma(self, rma, order):
        rma.with_user(self.rma_user).action_create_credit_note()
        refund = rma.line_ids.credit_note_id
        refund.action_post()
        return refund

    def _credit_from_invoice(self, rma, order):
        refund = order.invoice_ids._reverse_moves()
        refund.action_post()
        return refund

    def _credit_from_sale_order(self, rma, order):
        refund = order._create_invoices(final=True)
        self.assertEqual(refund.move_type, "out_refund")
        refund.action_post()
        return refund

    def test_cogs_reversed_once_in_every_order(self):
        """Invariant 2, real-time valuation, FIFO, AVCO and standard cost: a credit note from the RMA, from the sale
        order or reversing the invoice, before or after the receipt, or before the RMA exists: one COGS reversal per
        unit, stock and ledger agree across the steps taken together and after each step taken by the addon."""
        self.customer.rma_advance_remedy = True
        cases = [
            ("rma", "before_receipt"),
            ("rma", "after_receipt"),
            ("invoice", "before_receipt"),
            ("invoice", "after_receipt"),
            ("invoice", "before_rma"),
            ("sale_order", "after_receipt"),
        ]
        credit = {
            "rma": self._credit_from_rma,
            "invoice": self._credit_from_invoice,
            "sale_order": self._credit_from_sale_order,
        }
        for cost_method in ("fifo", "average", "standard"):
            for source, timing in cases:
                with self.subTest(cost_method=cost_method, source=source, timing=timing):
                    product = self._new_product(cost_method)
                    product.invoice_policy = "delivery"
                    serial = f"ONCE-{cost_method}-{source}-{timing}"
                    order = self._sold_and_invoiced(COST, product, [serial], sale_price=SALE_PRICE)
                    start = self._values()
                    if timing == "before_rma":
                        refund = credit[source](None, order)
                        self.assertTrue(refund.line_ids.filtered(lambda aml: aml.display_type == "cogs"))
                    rma = self._rma_for(order, product, [serial])
                    line = rma.line_ids
                    if timing == "before_receipt":
                        before = self._values()
                        refund = credit[source](rma, order)
                        self.assertFalse(refund.line_ids.filtered(lambda aml: aml.display_type == "cogs"))
                        self._assert_step_balanced(before, self._values())
                    before = self._values()
                    self.env["stock.picking"]._rma_receive(line, station="DOCK-1")
                    if timing != "before_rma":
                        self._assert_step_balanced(before, self._values())
                    if timing == "after_receipt":
                        self._inspect(line)
                        self._confirm(line, "refund")
                        before = self._values()
                        refund = credit[source](rma, order)
                        self.assertFalse(refund.line_ids.filtered(lambda aml: aml.display_type == "cogs"))
                        self._assert_step_balanced(before, self._values())
                    self._assert_step_balanced(start, self._values())
                    self.assertEqual(len(self._cogs_credits(product)), 1, "one COGS reversal for the unit")
                    self.assertAlmostEqual(self._cogs_balance(product), 0.0)
                    self.assertEqual(line.is_cogs_reversed_by_refund, timing == "before_rma")

    def test_periodic_valuation_credit_note_and_receipt_post_no_cogs(self):
        """Periodic valuation, FIFO, AVCO and standard cost: neither the receipt nor the credit note posts COGS."""
        for cost_method in ("fifo", "average", "standard"):
            with self.subTest(cost_method=cost_method):
                product = self._new_product(cost_method, "periodic")
                serial = f"PER-{cost_method}"
                order = self._sold_and_invoiced(COST, product, [serial], sale_price=SALE_PRICE)
                rma = self._rma_for(order, product, [serial])
                line = self._received_and_inspected(rma)
                self._confirm(line, "refund")
                refund = self._credit_from_rma(rma, order)
                self.assertEqual(refund.state, "posted")
                self.assertFalse(refund.line_ids.filtered(lambda aml: aml.display_type == "cogs"))
                self.assertFalse(line.account_move_line_ids.filtered(lambda aml: aml.journal_id.code == "RMAD"))
                self.assertFalse(self._cogs_credits(product))

    # ------------------------------------------------------------------
    # Replacement
    # ------------------------------------------------------------------
    def test_advance_replacement_expensed_as_warranty_and_overdue_activity(self):
        self.customer.rma_advance_remedy = True
        product = self._new_product("fifo")
        order = self._sold_and_invoiced(COST, product, ["RPL-OLD"], sale_price=SALE_PRICE)
        self._purchase(product, ["RPL-NEW"], COST)
        self.company.action_close_stock_valuation(auto_post=True)  # no vendor bill: align the purchase
        rma = self._rma_for(order, product, ["RPL-OLD"], remedy="replacement")
        line = rma.line_ids
        self.assertTrue(rma.has_replacement_to_do, "advance replacement: before the unit arrives")
        rma.with_user(self.rma_user).action_create_replacement()
        picking = rma.remedy_picking_ids
        self.assertRecordValues(
            picking,
            [
                {
                    "picking_type_id": self.warehouse.out_type_id.id,
                    "partner_id": self.customer.id,
                    "location_id": self.stock_location.id,
                    "location_dest_id": self.customer_location.id,
                    "origin": rma.name,
                }
            ],
        )
        self.assertRecordValues(picking.move_ids, [{"product_id": product.id, "sale_line_id": False}])
        self.assertEqual(line.remedy_move_id, picking.move_ids)

        before = self._values()
        self._validate_delivery(picking, self.env["stock.lot"].search([("name", "=", "RPL-NEW")]))
        self._assert_step_balanced(before, self._values())
        warranty = self.env["account.move.line"].search(
            [("account_id", "=", self.warranty_account.id), ("rma_line_id", "=", line.id)]
        )
        self.assertRecordValues(warranty, [{"debit": COST, "credit": 0.0, "parent_state": "posted"}])
        self.assertEqual(order.order_line.qty_invoiced, 1.0, "the replacement is not invoiced")
        self.assertEqual(line.remedy_state, "done")
        self.assertEqual(rma.state, "authorized", "the original has not arrived")

        # The original does not arrive in time: one activity for the RMA's responsible, once.
        picking.move_ids.sudo().date = fields.Datetime.now() - timedelta(days=self.company.rma_advance_return_days + 1)
        self.env["rma.line"]._cron_check_advance_remedies()
        self.env["rma.line"]._cron_check_advance_remedies()
        self.assertEqual(len(rma.activity_ids), 1)
        self.assertTrue(line.is_advance_overdue)

        # It arrives after all, is restocked: the RMA closes.
        self._received_and_inspected(rma)
        self._dispose(line, self.code["RTS"])
        self.assertEqual(rma.state, "done")
        self.assertFalse(self.company._action_close_stock_valuation(), "stock and ledger agree")

    def test_replacement_needs_a_confirmed_remedy_unless_advance(self):
        product = self._new_product("fifo")
        order = self._sold_and_invoiced(COST, product, ["RPL-0101"], sale_price=SALE_PRICE)
        rma = self._rma_for(order, product, ["RPL-0101"], remedy="replacement")
        self.assertFalse(rma.has_replacement_to_do)
        with self.assertRaisesRegex(UserError, "confirms the remedy"):
            rma.with_user(self.rma_user).action_create_replacement()
        self.assertFalse(rma.remedy_picking_ids)
        auditor = self._new_user("rma_auditor", "account.group_account_readonly")
        self.customer.rma_advance_remedy = True
        with self.assertRaisesRegex(AccessError, "Only Returns users"):
            rma.with_user(auditor).action_create_replacement()
        self.assertFalse(rma.remedy_picking_ids)

    # ------------------------------------------------------------------
    # Repair and return
    # ------------------------------------------------------------------
    def test_repair_and_return_ships_the_same_serial_back(self):
        product = self._new_product("fifo")
        order = self._sold_and_invoiced(COST, product, ["RR-0001"], sale_price=SALE_PRICE)
        rma = self._rma_for(order, product, ["RR-0001"], remedy="repair_return")
        line = self._received_and_inspected(rma)
        self._confirm(line, "repair_return")
        self._dispose(line, self.code["REP"], repair_level="l1", net_realizable_value=450.0)
        repair = line.repair_id
        self.assertTrue(repair.under_warranty)
        self.assertFalse(rma.has_shipment_to_do, "not repaired yet")
        repair.action_repair_start()
        repair.action_repair_end()
        self.assertEqual(line.state, "ready")
        self.assertTrue(rma.has_shipment_to_do)

        rma.with_user(self.rma_user).action_ship_back()
        picking = rma.remedy_picking_ids
        self.assertRecordValues(
            picking.move_ids,
            [{"location_id": self.graded_location.id, "state": "assigned"}],
        )
        self.assertEqual(picking.move_ids.move_line_ids.lot_id, line.lot_id, "the customer's own unit")
        before = self._values()
        self._validate_delivery(picking)
        self._assert_step_balanced(before, self._values())
        self.assertEqual(line.state, "closed")
        self.assertEqual(line.custody_event_ids.sorted("sequence")[-2:].mapped("event_type"), ["shipment", "status"])
        self.assertEqual(self._unit_quants(line), {}, "with the customer again")
        shipped = line.account_move_line_ids.filtered(lambda aml: "SHIPPED BACK" in aml.name)
        self.assertRecordValues(
            shipped.sorted("debit", reverse=True),
            [
                {"account_id": self.cogs_account.id, "debit": 450.0, "credit": 0.0},
                {"account_id": self.stock_valuation_account.id, "debit": 0.0, "credit": 450.0},
            ],
        )
        self.assertEqual(line.remedy_state, "done")
        self.assertEqual(rma.state, "done")
        self.assertFalse(self.company._action_close_stock_valuation(), "stock and ledger agree")

    # ------------------------------------------------------------------
    # Recovery
    # ------------------------------------------------------------------
    def test_recycler_payment_clears_the_recovery_receivable(self):
        line = self._inspected_units(self._new_product("fifo"), ["RECY-0001"])
        self._dispose(line, self.code["REC"], recovery_value=12.0)
        receivable = line.account_move_line_ids.filtered(lambda aml: aml.account_id == self.recovery_account)
        self.assertRecordValues(receivable, [{"debit": 12.0, "amount_residual": 12.0, "reconciled": False}])
        bank = self.env["account.journal"].search(
            [("type", "=", "bank"), ("company_id", "=", self.company.id)], limit=1
        )
        recycler = self.env["res.partner"].create({"name": "Test Recycler", "is_company": True})
        payment = self.env["account.move"].create(
            {
                "move_type": "entry",
                "journal_id": bank.id,
                "line_ids": [
                    (0, 0, {"account_id": bank.default_account_id.id, "debit": 12.0, "partner_id": recycler.id}),
                    (0, 0, {"account_id": self.recovery_account.id, "credit": 12.0, "partner_id": recycler.id}),
                ],
            }
        )
        payment.action_post()
        (receivable | payment.line_ids.filtered(lambda aml: aml.account_id == self.recovery_account)).reconcile()
        self.assertRecordValues(receivable, [{"amount_residual": 0.0, "reconciled": True}])

    def test_harvested_parts_into_stock_clear_the_recovery(self):
        """Contract, parts harvest: the parts go into stock at their recovery value, Dr stock of the part / Cr
        recovery clearing (Odoo's Dr stock / Cr disposal expense, and the addon's Dr disposal expense / Cr recovery
        clearing)."""
        line = self._inspected_units(self._new_product("fifo"), ["PH-0001"])
        self._dispose(line, self.code["PH"], recovery_value=35.0)
        ram = self._create_product("Test RAM module", tracking="none")
        with self.assertRaises(AccessError):
            self.env["rma.harvest.wizard"].with_user(self.rma_user).create({"unit_id": line.id})
        laptop = Command.create({"product_id": self.laptop.id, "quantity": 1.0, "unit_value": 15.0})
        with self.assertRaisesRegex(UserError, "without serial numbers"):
            self.env["rma.harvest.wizard"].with_user(self.rma_inspector).create(
                {"unit_id": line.id, "part_ids": [laptop]}
            ).action_confirm()
        before = self._values()
        wizard = Form(
            self.env["rma.harvest.wizard"].with_user(self.rma_inspector).with_context(default_unit_id=line.id)
        )
        with wizard.part_ids.new() as part:
            part.product_id = ram
            part.quantity = 2.0
            part.unit_value = 15.0
        wizard.save().action_confirm()
        self._assert_step_balanced(before, self._values())
        self.assertEqual(self.env["stock.quant"]._get_available_quantity(ram, self.stock_location), 2.0)
        self.assertRecordValues(line.harvest_move_ids, [{"product_id": ram.id, "state": "done", "value": 30.0}])
        recovery = line.account_move_line_ids.filtered(lambda aml: aml.account_id == self.recovery_account)
        self.assertAlmostEqual(sum(recovery.mapped("balance")), 5.0, msg="35.00 recovery less 30.00 in parts")
        stock_lines = self.env["account.move.line"].search(
            [("account_id", "=", self.stock_valuation_account.id), ("product_id", "=", ram.id)]
        )
        self.assertAlmostEqual(sum(stock_lines.mapped("balance")), 30.0)

    def test_destroyed_unit_closes_when_its_destruction_is_certified(self):
        line = self._inspected_units(self._new_product("fifo"), ["SD-0001"])
        rma = line.rma_id
        line.rma_id.with_user(self.rma_manager)._confirm_remedy(line, "none")
        self._dispose(line, self.code["SD"])
        self.assertEqual(line.state, "disposition")
        self.assertEqual(rma.state, "in_progress")
        with self.assertRaisesRegex(UserError, "validated Destroy certificate"):
            line._close_destroyed("not certified")
        certificate = (
            self.env["rma.sanitization"]
            .with_user(self.rma_inspector)
            .create({"line_id": line.id, "method_type": "destroy", "method": "shred", "performer_name": "Tech"})
        )
        certificate.with_user(self.rma_inspector).action_perform()
        certificate.with_user(self.rma_manager).action_validate()  # the second person: the certificate closes it
        self.assertEqual(line.state, "closed")
        self.assertIn(certificate.name, line.custody_event_ids.sorted("sequence")[-1].note)
        self.assertEqual(rma.state, "done", "no remedy: the RMA closes with its unit")
        with self.assertRaisesRegex(UserError, "waiting for their destruction"):
            line._close_destroyed("again")


@tagged("post_install", "-at_install")
class TestRmaRemedyRpc(RmaRpcCommon):
    """Remedies and recovery over JSON-RPC: a manager confirms a remedy and grants advance remedies, warehouse staff
    draft credit notes, and harvested parts stay within the unit's recovery value."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_manager = cls._new_user("rma_guard_manager_2", "rma_recovery.group_rma_manager")

    def test_remedies_over_rpc(self):
        """Warehouse staff draft credit notes and cannot post them; only a manager confirms a remedy; a client writes
        no remedy, link or delivery of a unit."""
        product = self._new_product("fifo")
        order = self._sold_and_invoiced(500.0, product, ["RPC-CN01"])
        rma = self._create_rma([(product, "RPC-CN01")], sale_order_id=order.id)
        rma.action_authorize()
        unit = rma.line_ids
        self.env["stock.picking"]._rma_receive(unit, station="DOCK-1")
        self._inspect(unit)

        wizard_vals = {"line_ids": [Command.set(unit.ids)], "remedy": "refund"}
        self.assertRefused(self._call(self.rma_inspector, "rma.remedy.wizard", "create", wizard_vals))
        self.assertRefused(self._call(self.rma_user, "rma.order", "action_create_credit_note", rma.ids), USER_ERROR)
        wizard_id = self._call(self.rma_manager, "rma.remedy.wizard", "create", wizard_vals)["result"]
        self.assertNotIn("error", self._call(self.rma_manager, "rma.remedy.wizard", "action_confirm", [wizard_id]))
        self.assertEqual(unit.remedy_confirmed_by_id, self.rma_manager)

        for vals in ({"remedy": "none"}, {"remedy_confirmed_date": False}, {"remedy_move_id": False}):
            self.assertRefused(self._call(self.rma_manager, "rma.line", "write", unit.ids, vals))
        self.assertRefused(
            self._call(self.rma_manager, "rma.line", "write", unit.ids, {"remedy_requested": "none"}), USER_ERROR
        )

        self.assertNotIn("error", self._call(self.rma_user, "rma.order", "action_create_credit_note", rma.ids))
        refund = unit.credit_note_id
        self.assertEqual(refund.state, "draft")
        self.assertRefused(self._call(self.rma_user, "account.move", "action_post", refund.ids))
        self.assertRefused(self._call(self.rma_user, "rma.line", "write", unit.ids, {"credit_note_line_id": False}))
        self.assertEqual(refund.state, "draft")
        self.assertEqual(unit.remedy_state, "pending")

    def test_advance_remedies_are_granted_by_managers_only(self):
        """Whoever may edit contacts (a salesperson with Contact Creation) may not set the flag that lets a
        customer's units be credited or replaced before the manager's confirmation."""
        partner_group = self.env.ref("base.group_partner_manager")
        editor = self._new_user("rpc_contacts_editor", "base.group_user,base.group_partner_manager")
        self.assertRefused(self._call(editor, "res.partner", "write", self.customer.ids, {"rma_advance_remedy": True}))
        self.assertRefused(
            self._call(editor, "res.partner", "create", {"name": "Trusted?", "rma_advance_remedy": True})
        )
        self.assertFalse(self.customer.rma_advance_remedy)
        self.assertNotIn(
            "error", self._call(editor, "res.partner", "write", self.customer.ids, {"phone": "+1 555 0100"})
        )
        self.rma_manager.group_ids = [Command.link(partner_group.id)]
        self.assertNotIn(
            "error",
            self._call(self.rma_manager, "res.partner", "write", self.customer.ids, {"rma_advance_remedy": True}),
        )
        self.assertTrue(self.customer.rma_advance_remedy)

    def test_replacement_product_is_fixed_by_the_confirmed_remedy(self):
        """A unit's replacement product is part of the remedy the manager confirmed: nobody rewrites it afterwards;
        the manager changes it by confirming the remedy again."""
        unit = self._inspected_units(self._new_product("fifo"), ["G18-R001"])
        cheaper = self._create_product("Test Laptop Basic")
        dearer = self._create_product("Test Laptop Pro", list_price=4000.0)
        # Before the confirmation, the request's replacement product is the requester's to choose.
        self.assertNotIn(
            "error", self._call(self.rma_user, "rma.line", "write", unit.ids, {"replacement_product_id": cheaper.id})
        )
        wizard = self._call(
            self.rma_manager,
            "rma.remedy.wizard",
            "create",
            {"line_ids": [Command.set(unit.ids)], "remedy": "replacement", "replacement_product_id": cheaper.id},
        )
        self.assertNotIn(
            "error", self._call(self.rma_manager, "rma.remedy.wizard", "action_confirm", [wizard["result"]])
        )
        self.assertRecordValues(unit, [{"remedy": "replacement", "replacement_product_id": cheaper.id}])

        for user in (self.rma_user, self.rma_inspector, self.rma_manager):
            for value in (dearer.id, False):
                with self.subTest(user=user.login, value=value):
                    self.assertRefused(
                        self._call(user, "rma.line", "write", unit.ids, {"replacement_product_id": value}), USER_ERROR
                    )
        self.assertEqual(unit.replacement_product_id, cheaper)
        # Writing the value it has changes nothing: the unit's form saves it as it is.
        self.assertNotIn(
            "error", self._call(self.rma_user, "rma.line", "write", unit.ids, {"replacement_product_id": cheaper.id})
        )

        # Another manager confirms the remedy again, with another product: that is the decision, recorded as such.
        defaults = Form(
            self.env["rma.remedy.wizard"]
            .with_user(self.other_manager)
            .with_context(active_model="rma.line", active_ids=unit.ids)
        )
        self.assertEqual(defaults.replacement_product_id, cheaper, "the wizard shows what is confirmed")
        wizard = self._call(
            self.other_manager,
            "rma.remedy.wizard",
            "create",
            {"line_ids": [Command.set(unit.ids)], "remedy": "replacement", "replacement_product_id": dearer.id},
        )
        self.assertNotIn(
            "error", self._call(self.other_manager, "rma.remedy.wizard", "action_confirm", [wizard["result"]])
        )
        self.assertRecordValues(
            unit, [{"replacement_product_id": dearer.id, "remedy_confirmed_by_id": self.other_manager.id}]
        )

    def test_harvested_parts_are_capped_at_the_recovery_value(self):
        """The parts taken from a unit, all harvests together, are worth at most the recovery value its disposition
        recorded; a harvest beyond it is refused, naming the unit, the cap and what was harvested, with nothing
        written."""
        unit = self._inspected_units(self._new_product("fifo"), ["G18-H001"])
        self._dispose(unit, self.code["PH"], recovery_value=RECOVERY)
        ram = self._create_product("Test RAM module", tracking="none")
        self._harvest(unit, [(ram, 2.0, 15.0)])
        self.assertEqual(len(unit.harvest_move_ids), 1)
        entries = unit.account_move_line_ids.move_id

        def wizard(quantity, value):
            return self._call(
                self.rma_inspector,
                "rma.harvest.wizard",
                "create",
                {
                    "unit_id": unit.id,
                    "part_ids": [Command.create({"product_id": ram.id, "quantity": quantity, "unit_value": value})],
                },
            )["result"]

        for quantity, value in ((1.0, 5.01), (1.0, 1000.0), (3.0, 2.0)):
            with self.subTest(quantity=quantity, value=value):
                answer = self._call(
                    self.rma_inspector, "rma.harvest.wizard", "action_confirm", [wizard(quantity, value)]
                )
                self.assertRefused(answer, USER_ERROR)
                message = answer["error"]["data"]["message"]
                self.assertIn(unit.display_name, message)
                self.assertRegex(message, r"35\.00")
                self.assertRegex(message, r"30\.00")
        self.assertEqual(len(unit.harvest_move_ids), 1, "nothing moved")
        self.assertEqual(self.env["stock.quant"]._get_available_quantity(ram, self.stock_location), 2.0)
        self.assertEqual(unit.account_move_line_ids.move_id, entries, "nothing posted")
        # What is left of the recovery value can still be harvested, up to the cap.
        self.assertNotIn(
            "error", self._call(self.rma_inspector, "rma.harvest.wizard", "action_confirm", [wizard(1, 5)])
        )
        self.assertAlmostEqual(sum(unit.harvest_move_ids.mapped("value")), RECOVERY)
        self.assertAlmostEqual(self._balance(unit, self.recovery_account), 0.0)
