from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common_disposition import RmaDispositionCommon

PRICE = 500.0
NRV = 300.0  # below cost: REF and REP units are written down by 200
REF_COST = 40.0  # entered in the wizard
REP_LEVEL = "l2"  # the code's L2 estimate is accrued
RECOVERY = {"PH": 35.0, "REC": 12.0}


@tagged("post_install", "-at_install")
class TestRmaDispositionAccounting(RmaDispositionCommon):
    """The accounting contract, code by code, in perpetual and periodic valuation, for each cost method."""

    def _wizard_values(self, code):
        if code == "REF":
            return {"net_realizable_value": NRV, "work_cost": REF_COST}
        if code == "REP":
            return {"repair_level": REP_LEVEL, "net_realizable_value": NRV}
        if code in RECOVERY:
            return {"recovery_value": RECOVERY[code]}
        return {}

    def _expected_lines(self, code, line, valuation):
        """The unit's journal items once disposed, as the contract's table says (sorted as _disposition_lines)."""
        label = f"{line.rma_id.name} {line.serial_number} {code}"
        accounts = self.code[code]._get_accounts(line.product_id, self.company)
        odoo_lines, addon_lines = [], []
        if valuation == "real_time" and code != "RTS":
            odoo_lines = [(accounts["location"], PRICE, 0.0), (self.stock_valuation_account, 0.0, PRICE)]
        if code in ("REF", "REP"):
            work_cost = REF_COST if code == "REF" else self.code["REP"].repair_cost_l2
            label += " L2" if code == "REP" else ""
            addon_lines = [
                (accounts["writedown"], PRICE - NRV, 0.0),
                (accounts["location"], 0.0, PRICE - NRV),
                (accounts["work_cost"], work_cost, 0.0),
                (accounts["accrued_cost"], 0.0, work_cost),
            ]
        elif code in RECOVERY:
            addon_lines = [(self.recovery_account, RECOVERY[code], 0.0), (self.income_account, 0.0, RECOVERY[code])]
        expected = []
        for lines in (odoo_lines, addon_lines):  # Odoo's entry is created first, with the moves
            expected += sorted(
                (
                    {"account_id": account.id, "debit": debit, "credit": credit, "name": label, "rma_line_id": line.id}
                    for account, debit, credit in lines
                ),
                key=lambda vals: (self.env["account.account"].browse(vals["account_id"]).code, -vals["debit"]),
            )
        return expected

    def _check_dispositions(self, cost_method, valuation):
        """One unit per code, disposed in one confirmation (so every unit leaves stock at the same cost)."""
        product = self._new_product(cost_method, valuation)
        codes = list(self.code)
        lines = self._inspected_units(product, [f"{code}-{cost_method[:3]}-{valuation[:4]}" for code in codes], PRICE)
        code_by_line = dict(zip(lines, codes, strict=True))
        before = self._values()
        self._dispose(
            lines,
            {line: self.code[code] for line, code in code_by_line.items()},
            per_unit={line: self._wizard_values(code) for line, code in code_by_line.items()},
        )
        if valuation == "real_time":
            self._assert_step_balanced(before, self._values())
        for line, code in code_by_line.items():
            with self.subTest(code=code):
                destination = self.warehouse_locations[code]
                self.assertEqual(self._unit_quants(line), {destination: 1.0}, "the unit is in its code's location only")
                self.assertRecordValues(
                    self._disposition_lines(line),
                    self._expected_lines(code, line, valuation),
                    field_names=["account_id", "debit", "credit", "name", "rma_line_id"],
                )
                self.assertRecordValues(
                    line,
                    [
                        {
                            "disposition_id": self.code[code].id,
                            "location_id": destination.id,
                            "book_value": PRICE,
                            "disposition_valuation": valuation,
                        }
                    ],
                )
        return code_by_line

    def _check_work_closed(self, line, cost_method, valuation):
        """The refurbishment or repair is finished: the unit is in graded stock at its net realizable value
        (its standard price for standard cost) and WIP holds nothing for it any more."""
        before = self._values()
        if line.disposition_id.treatment == "repair":
            repair = line.repair_id
            repair.action_repair_start()
            repair.action_repair_end()
        else:
            line.with_user(self.rma_inspector).action_finish_refurbishment()
        if valuation == "real_time":
            self._assert_step_balanced(before, self._values())
        self.assertEqual(self._unit_quants(line), {self.graded_location: 1.0})
        self.assertEqual(line.state, "ready")
        close_move = line.receipt_move_ids.filtered(lambda move: move.location_dest_id == self.graded_location)
        self.assertAlmostEqual(close_move.value, PRICE if cost_method == "standard" else NRV)
        # The work cost accrued at disposition is settled: the accrued liability holds nothing for the unit.
        accrued = line.account_move_line_ids.filtered(lambda aml: aml.account_id == self.accrued_account)
        self.assertTrue(accrued.filtered("debit"), "the settlement")
        self.assertAlmostEqual(sum(accrued.mapped("balance")), 0.0, msg="accrued work costs settled")
        settlement = accrued.filtered("debit")
        code = self.env["account.move.line"]._rma_disposition_code(line)
        self.assertEqual(settlement.name, f"{line.rma_id.name} {line.serial_number} {code} CLOSE")
        self.assertAlmostEqual(settlement.debit, line.work_cost)
        # Standard cost: back in stock at its standard price (500) above its net realizable value (300), the unit is
        # carried at the latter through the NRV allowance; the write-down is not reversed.
        accounts = line.disposition_id._get_accounts(line.product_id, self.company)
        allowance = line.account_move_line_ids.filtered(lambda aml: aml.account_id == accounts["nrv_allowance"])
        writedown_reversal = line.account_move_line_ids.filtered(
            lambda aml: (
                aml.account_id == accounts["writedown"]
                and "CLOSE" in aml.name
                and self.company.currency_id.compare_amounts(aml.credit, PRICE - NRV) == 0
            )
        )
        self.assertFalse(writedown_reversal, "never reversed through its expense account")
        if cost_method == "standard":
            self.assertRecordValues(allowance, [{"debit": 0.0, "credit": PRICE - NRV}])
            self.assertNotIn(accounts["nrv_allowance"], self.company.stock_value(), "not a stock valuation account")
        else:
            self.assertFalse(allowance)
        wip_lines = line.account_move_line_ids.filtered(lambda aml: aml.account_id == self.wip_account)
        if valuation == "real_time":
            self.assertAlmostEqual(sum(wip_lines.mapped("balance")), 0.0, msg="WIP is empty once the work is done")
        else:
            # Periodic: the stock closing reclassifies the moves in and out of WIP (500 in, the close move out).
            self.assertAlmostEqual(sum(wip_lines.mapped("balance")) + PRICE - close_move.value, 0.0)

    def test_every_code_every_cost_method_perpetual_and_periodic(self):
        for valuation in ("real_time", "periodic"):
            for cost_method in ("fifo", "average", "standard"):
                with self.subTest(valuation=valuation, cost_method=cost_method):
                    code_by_line = self._check_dispositions(cost_method, valuation)
                    for line, code in code_by_line.items():
                        if code in ("REF", "REP"):
                            with self.subTest(code=code, step="work closed"):
                                self._check_work_closed(line, cost_method, valuation)

    def test_end_to_end_from_posted_sale(self):
        """Bought, sold and invoiced (with its COGS lines), returned, refurbished and back in graded stock: stock
        value and ledger agree on the stock valuation account at the end, and COGS was reversed once."""
        product = self._new_product("fifo", "real_time")
        product.list_price = 900.0
        serial = "E2E-0001"
        self._purchase(product, [serial], PRICE)
        # Receipts post nothing in Odoo 19 (the vendor bill would): the closing aligns the ledger on stock first.
        self.company.action_close_stock_valuation(auto_post=True)
        stock_account = self.stock_valuation_account
        self.assertAlmostEqual(
            self.company.stock_value()[stock_account], self.company.stock_accounting_value()[stock_account]
        )

        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "order_line": [Command.create({"product_id": product.id, "product_uom_qty": 1})],
            }
        )
        order.action_confirm()
        delivery = order.picking_ids
        delivery.move_ids.move_line_ids.lot_id = self.env["stock.lot"].search([("name", "=", serial)])
        delivery.move_ids.picked = True
        delivery.button_validate()
        invoice = order._create_invoices()
        invoice.action_post()
        cogs_on_invoice = invoice.line_ids.filtered(lambda aml: aml.account_id == self.cogs_account)
        self.assertAlmostEqual(sum(cogs_on_invoice.mapped("debit")), PRICE, msg="the sale's COGS")

        rma = self._create_rma([(product, serial)], sale_order_id=order.id)
        rma.action_authorize()
        self._scan(rma.name, serial)
        line = self._inspect(rma.line_ids)
        self._dispose(line, self.code["REF"], net_realizable_value=NRV, work_cost=REF_COST)
        line.with_user(self.rma_inspector).action_finish_refurbishment()

        values, ledger = self.company.stock_value(), self.company.stock_accounting_value()
        self.assertAlmostEqual(values[stock_account], ledger[stock_account])
        self.assertAlmostEqual(
            values[stock_account], NRV, msg="the unit is in graded stock at its net realizable value"
        )
        cogs_reversals = line.account_move_line_ids.filtered(
            lambda aml: aml.account_id == self.cogs_account and aml.credit and "RECEIPT" in aml.name
        )
        self.assertEqual(len(cogs_reversals), 1)
        self.assertAlmostEqual(cogs_reversals.credit, PRICE)
        self.assertFalse(self.company._action_close_stock_valuation(), "nothing left for the closing to correct")

    def _deliver_from_graded(self, line):
        """Odoo's own delivery of the remarketed unit, from graded stock to a customer."""
        picking = self.env["stock.picking"].create(
            {
                "partner_id": self.other_customer.id,
                "picking_type_id": self.warehouse.out_type_id.id,
                "location_id": self.graded_location.id,
                "location_dest_id": self.customer_location.id,
                "move_ids": [
                    Command.create(
                        {
                            "product_id": line.product_id.id,
                            "product_uom_qty": 1,
                            "location_id": self.graded_location.id,
                            "location_dest_id": self.customer_location.id,
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
                            "product_id": line.product_id.id,
                            "lot_id": line.lot_id.id,
                            "quantity": 1,
                            "location_id": self.graded_location.id,
                            "location_dest_id": self.customer_location.id,
                        }
                    )
                ],
                "picked": True,
            }
        )
        picking.button_validate()
        return picking

    def test_leaving_graded_stock_closes_the_unit_and_releases_the_allowance(self):
        """Contract, standard cost: the NRV allowance is released when the unit leaves graded stock (Dr NRV
        allowance / Cr COGS); every unit leaving graded stock is closed."""
        product = self._new_product("standard", "real_time")
        product.standard_price = PRICE
        line = self._inspected_units(product, ["GR-0001"], PRICE)
        self._dispose(line, self.code["REF"], net_realizable_value=NRV, work_cost=REF_COST)
        line.with_user(self.rma_inspector).action_finish_refurbishment()
        accounts = line.disposition_id._get_accounts(product, self.company)
        allowance = accounts["nrv_allowance"]
        self.assertAlmostEqual(
            sum(line.account_move_line_ids.filtered(lambda aml: aml.account_id == allowance).mapped("balance")),
            -(PRICE - NRV),
        )
        ledger_before = self.company.stock_accounting_value()
        picking = self._deliver_from_graded(line)
        # Odoo 19 posts a delivery's cost with the invoice; the release touches no stock valuation account.
        self.assertEqual(self.company.stock_accounting_value(), ledger_before)
        self.assertRecordValues(
            line, [{"state": "closed", "location_id": self.customer_location.id, "rma_id": line.rma_id.id}]
        )
        self.assertTrue(line.closed_date)
        release = line.account_move_line_ids.filtered(lambda aml: "RELEASE" in aml.name).sorted("debit")
        self.assertRecordValues(
            release,
            [
                {"account_id": product.categ_id.property_account_expense_categ_id.id, "debit": 0.0, "credit": 200.0},
                {"account_id": allowance.id, "debit": 200.0, "credit": 0.0},
            ],
        )
        self.assertAlmostEqual(
            sum(line.account_move_line_ids.filtered(lambda aml: aml.account_id == allowance).mapped("balance")), 0.0
        )
        last = line.custody_event_ids.sorted("sequence")[-2:]
        self.assertEqual(last.mapped("event_type"), ["shipment", "status"], "delivered to a customer: a shipment")
        self.assertEqual(last[0].note, picking.name)
        self.assertEqual(line.rma_id.state, "in_progress", "the unit is closed, its refund still to do")
        line.sudo().remedy = "none"
        self.assertEqual(line.rma_id.state, "done")

    def test_custody_scan_back_to_stock_closes_the_unit(self):
        product = self._new_product("fifo", "real_time")
        line = self._inspected_units(product, ["GR-0101"], PRICE)
        self._dispose(line, self.code["REF"], net_realizable_value=NRV)
        line.with_user(self.rma_inspector).action_finish_refurbishment()
        events = len(line.custody_event_ids)
        self.stock_location.barcode = self.stock_location.barcode or "GR-STOCK"
        self.env["rma.scan"].with_user(self.rma_user).custody_scan(
            self.stock_location.barcode, line_id=line.id, station="SHELF"
        )
        self.assertRecordValues(line, [{"state": "closed", "location_id": self.stock_location.id}])
        self.assertEqual(len(line.custody_event_ids) - events, 2, "the handoff, then the status")
        self.assertFalse(line.account_move_line_ids.filtered(lambda aml: "RELEASE" in aml.name), "FIFO: no allowance")

    def test_cancelled_work_returns_the_unit_to_quarantine(self):
        """A refurbishment or repair abandoned: back in quarantine at its book value, the write-down and accrual
        reversed, WIP and accrued costs empty for the unit, ready for a new disposition."""
        for cost_method in ("fifo", "average", "standard"):
            for code in ("REF", "REP"):
                with self.subTest(cost_method=cost_method, code=code):
                    product = self._new_product(cost_method, "real_time")
                    line = self._inspected_units(product, [f"CW-{cost_method[:3]}-{code}"], PRICE)
                    self._dispose(line, self.code[code], **self._wizard_values(code))
                    accounts = line.disposition_id._get_accounts(product, self.company)
                    repair = line.repair_id
                    before = self._values()
                    if code == "REP":
                        repair.action_repair_cancel()
                        self.assertEqual(repair.state, "cancel")
                    else:
                        line.with_user(self.rma_inspector).action_cancel_refurbishment()
                    self._assert_step_balanced(before, self._values())
                    self.assertEqual(self._unit_quants(line), {self.quarantine: 1.0})
                    self.assertRecordValues(
                        line,
                        [
                            {
                                "state": "inspection",
                                "location_id": self.quarantine.id,
                                "disposition_id": False,
                                "disposition_batch_id": False,
                                "can_be_disposed": True,
                            }
                        ],
                    )
                    back = line.receipt_move_ids.filtered(lambda move: move.location_dest_id == self.quarantine)[-1:]
                    self.assertAlmostEqual(back.value, PRICE, msg="back at its book value")
                    for name in ("location", "accrued_cost"):
                        self.assertAlmostEqual(self._balance(line, accounts[name]), 0.0, msg=name)
                    # Disposed again, as if for the first time.
                    self._dispose(line, self.code["RTS"])
                    self.assertEqual(line.state, "closed")
                    self.assertEqual(self._unit_quants(line), {self.stock_location: 1.0})

    def test_only_units_in_refurbishment_are_cancelled_by_inspectors(self):
        line = self._inspected_units(self._new_product(), ["CW-0001"], PRICE)
        with self.assertRaisesRegex(UserError, "Only units in refurbishment"):
            line.with_user(self.rma_inspector).action_cancel_refurbishment()
        self._dispose(line, self.code["REF"], **self._wizard_values("REF"))
        with self.assertRaises(AccessError):
            line.with_user(self.rma_user).action_cancel_refurbishment()
        self.assertEqual(line.state, "in_progress")

    def test_allowance_released_when_the_unit_leaves_from_a_shelf_of_graded_stock(self):
        """Odoo's own transfers put the remarketed unit on a shelf below Graded / Remarketing; delivered from there,
        it leaves graded stock all the same: closed, its NRV allowance released (Dr NRV allowance / Cr COGS)."""
        product = self._new_product("standard", "real_time")
        product.standard_price = PRICE
        line = self._inspected_units(product, ["G18-N001"], PRICE)
        self._dispose(line, self.code["REF"], net_realizable_value=NRV)
        line.with_user(self.rma_inspector).action_finish_refurbishment()
        self.assertEqual(line.state, "ready")
        allowance = line.disposition_id._get_accounts(product, self.company)["nrv_allowance"]
        shelf = self.env["stock.location"].create(
            {
                "name": "Shelf 1",
                "location_id": self.graded_location.id,
                "usage": "internal",
                "company_id": self.company.id,
            }
        )
        self._transfer(line, self.graded_location, shelf, self.warehouse.int_type_id)
        self.assertEqual(line.state, "ready", "moved within graded stock: still to remarket")
        self.assertFalse(line.account_move_line_ids.filtered(lambda aml: "RELEASE" in aml.name))

        self._transfer(line, shelf, self.customer_location, self.warehouse.out_type_id, partner=self.other_customer)
        self.assertRecordValues(line, [{"state": "closed", "location_id": self.customer_location.id}])
        release = line.account_move_line_ids.filtered(lambda aml: "RELEASE" in aml.name).sorted("debit")
        self.assertRecordValues(
            release,
            [
                {"account_id": self.cogs_account.id, "debit": 0.0, "credit": PRICE - NRV},
                {"account_id": allowance.id, "debit": PRICE - NRV, "credit": 0.0},
            ],
        )
        self.assertAlmostEqual(self._balance(line, allowance), 0.0)
        event = line.custody_event_ids.sorted("sequence")[-2]
        self.assertRecordValues(event, [{"event_type": "shipment", "location_id": shelf.id}])

    def test_periodic_harvest_clears_the_recovery_and_closes_once(self):
        """Periodic valuation: the harvest posts the lines that touch no stock valuation account, Dr disposal
        expense / Cr recovery clearing at the parts' value; the stock closing then books the parts into stock against
        the disposal expense (its reclassification of the moves out of the harvest location). The recovery clearing
        account holds nothing for the unit, and the disposal expense ends at the unit's book value."""
        product = self._new_product("fifo", "periodic")
        unit = self._inspected_units(product, ["G18-P001"], PRICE)
        self._dispose(unit, self.code["PH"], recovery_value=RECOVERY["PH"])
        accounts = self.code["PH"]._get_accounts(product, self.company)
        disposal, income, recovery = accounts["location"], accounts["income"], accounts["recovery"]
        part = self.env["product.product"].create(
            {"name": "Test RAM (periodic)", "type": "consu", "is_storable": True, "categ_id": product.categ_id.id}
        )
        self.assertEqual(part.valuation, "periodic")
        self.assertAlmostEqual(
            self._balance(unit, recovery), RECOVERY["PH"], msg="the disposition's recovery receivable"
        )

        self._harvest(unit, [(part, 2.0, RECOVERY["PH"] / 2)])
        harvest = unit.account_move_line_ids.filtered(lambda aml: part.display_name in aml.name).sorted("debit")
        self.assertRecordValues(
            harvest,
            [
                {"account_id": recovery.id, "debit": 0.0, "credit": RECOVERY["PH"], "rma_line_id": unit.id},
                {"account_id": disposal.id, "debit": RECOVERY["PH"], "credit": 0.0, "rma_line_id": unit.id},
            ],
        )
        self.assertAlmostEqual(self._balance(unit, recovery), 0.0, msg="the parts in stock clear the recovery")
        self.assertFalse(set(harvest.account_id) & set(self.company.stock_value()), "no stock valuation account")

        self.company.action_close_stock_valuation(auto_post=True)
        stock_account = self.stock_valuation_account
        self.assertAlmostEqual(
            self.company.stock_value()[stock_account], RECOVERY["PH"], msg="only the parts are in stock"
        )
        self.assertAlmostEqual(self.company.stock_accounting_value()[stock_account], RECOVERY["PH"])
        self.assertAlmostEqual(self._account_balance(disposal), PRICE, msg="the unit's book value, expensed once")
        self.assertAlmostEqual(self._account_balance(income), -RECOVERY["PH"])
        self.assertAlmostEqual(self._account_balance(recovery), 0.0)

    def _transfer(self, line, source, destination, picking_type, partner=None):
        """Odoo's own transfer of the unit's serial from ``source`` to ``destination``, validated."""
        picking = self.env["stock.picking"].create(
            {
                "partner_id": partner.id if partner else False,
                "picking_type_id": picking_type.id,
                "location_id": source.id,
                "location_dest_id": destination.id,
                "move_ids": [
                    Command.create(
                        {
                            "product_id": line.product_id.id,
                            "product_uom_qty": 1,
                            "location_id": source.id,
                            "location_dest_id": destination.id,
                        }
                    )
                ],
            }
        )
        picking.action_confirm()
        return self._validate_with_lots(picking, line.lot_id)

    def _account_balance(self, account):
        lines = self.env["account.move.line"].search(
            [("account_id", "=", account.id), ("company_id", "=", self.company.id), ("parent_state", "=", "posted")]
        )
        return sum(lines.mapped("balance"))
