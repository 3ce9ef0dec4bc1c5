from odoo import Command
from odoo.tests import Form, HttpCase, new_test_user, tagged

from .common_disposition import RmaDispositionCommon
from .common_rpc import ACCESS_ERROR, USER_ERROR, RmaRpcMixin

PRICE = 500.0
NRV = 300.0
RECOVERY = 35.0


@tagged("post_install", "-at_install")
class TestRmaIssue18Guards(RmaRpcMixin, RmaDispositionCommon, HttpCase):
    """Issue 18: what the screens allow only at one step, the server refuses at the others (each call over JSON-RPC
    as the user who must be refused), and the money of remarketed and harvested units."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        common = {"company_id": cls.company.id, "company_ids": [Command.set(cls.company.ids)]}
        cls.accountant = new_test_user(
            cls.env, login="rma_guard_accountant", groups="account.group_account_readonly", **common
        )
        cls.other_manager = new_test_user(
            cls.env, login="rma_guard_manager_2", groups="rma_recovery.group_rma_manager", **common
        )

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

    def _harvest(self, unit, parts, user=None):
        """The Harvest Parts wizard: ``parts`` = [(product, quantity, value of one)]."""
        wizard = Form(
            self.env["rma.harvest.wizard"].with_user(user or self.rma_inspector).with_context(default_unit_id=unit.id)
        )
        for product, quantity, value in parts:
            with wizard.part_ids.new() as part:
                part.product_id = product
                part.quantity = quantity
                part.unit_value = value
        return wizard.save().action_confirm()

    # ------------------------------------------------------------------
    # 1. Re-running the checks
    # ------------------------------------------------------------------
    def test_checks_are_rerun_only_on_requested_rmas_by_their_editors(self):
        """The checks store the unit's serial and delivery links, which the receipt's value and the COGS matching
        follow: once the RMA is decided nobody recomputes them, and a reader of a requested RMA cannot either."""
        rma = self._authorized_rma(["G18-C001"])
        line = rma.line_ids
        line._action_receive(station="DOCK-1")
        delivery_move = line.delivery_move_id
        self.assertTrue(delivery_move)
        # Recomputed now, the unit in quarantine would read "already in stock".
        for user in (self.rma_user, self.rma_manager):
            with self.subTest(user=user.login):
                self.assertRefused(self._call(user, "rma.order", "action_run_checks", rma.ids), USER_ERROR)
        self.assertRefused(self._call(self.accountant, "rma.order", "action_run_checks", rma.ids))
        self.assertRecordValues(
            line, [{"delivery_move_id": delivery_move.id, "lot_id": line.lot_id.id, "has_flag": False}]
        )

        self._deliver(self.customer, self.laptop, ["G18-C002"])
        requested = self._create_rma([(self.laptop, "G18-C002")], user=self.rma_user)
        self.assertRefused(self._call(self.accountant, "rma.order", "action_run_checks", requested.ids), ACCESS_ERROR)
        # The screen's Re-run Checks on a request stays the requester's: the serial now in stock is flagged.
        self.env["stock.quant"]._update_available_quantity(
            self.laptop, self.stock_location, 1, lot_id=requested.line_ids.lot_id
        )
        self.assertNotIn("error", self._call(self.rma_user, "rma.order", "action_run_checks", requested.ids))
        self.assertTrue(requested.line_ids.is_in_stock)

    # ------------------------------------------------------------------
    # 2. The replacement product, once the remedy is confirmed
    # ------------------------------------------------------------------
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

    # ------------------------------------------------------------------
    # 3. Segregation of duties: the draft batch is the preparer's
    # ------------------------------------------------------------------
    def test_segregated_batch_is_edited_only_by_its_preparer(self):
        """With segregation of duties, the manager who confirms a batch cannot first rewrite it (codes, values,
        units, note): what another manager confirms is what the preparer prepared."""
        self.company.rma_disposition_segregation = True
        unit, other = self._inspected_units(self._new_product("fifo"), ["G18-S001", "G18-S002"])
        prepared = self._call(
            self.rma_inspector,
            "rma.disposition.batch",
            "create",
            {"line_ids": [Command.create({"unit_id": unit.id, "disposition_id": self.code["RTS"].id})]},
        )
        batch = self.env["rma.disposition.batch"].browse(prepared["result"])
        row = batch.line_ids
        manager = self.rma_manager
        self.assertFalse(
            batch.with_user(manager).can_be_edited, "the form shows it read-only to the confirming manager"
        )
        self.assertTrue(batch.with_user(self.rma_inspector).can_be_edited)
        calls = [
            ("rma.disposition.batch.line", "write", [row.ids, {"disposition_id": self.code["PH"].id}]),
            ("rma.disposition.batch.line", "write", [row.ids, {"recovery_value": 1.0}]),
            ("rma.disposition.batch.line", "write", [row.ids, {"note": "changed"}]),
            (
                "rma.disposition.batch.line",
                "create",
                [{"batch_id": batch.id, "unit_id": other.id, "disposition_id": self.code["SD"].id}],
            ),
            ("rma.disposition.batch.line", "unlink", [row.ids]),
            ("rma.disposition.batch", "write", [batch.ids, {"note": "as I say"}]),
            (
                "rma.disposition.batch",
                "write",
                [batch.ids, {"line_ids": [Command.update(row.id, {"disposition_id": self.code["REC"].id})]}],
            ),
        ]
        for model, method, args in calls:
            with self.subTest(method=method, args=args[1:]):
                self.assertRefused(self._call(manager, model, method, *args), USER_ERROR)
        self.assertRecordValues(
            row, [{"unit_id": unit.id, "disposition_id": self.code["RTS"].id, "recovery_value": 0.0, "note": False}]
        )
        self.assertFalse(batch.note)
        # The preparer changes it; the other manager confirms what the preparer prepared.
        self.assertNotIn(
            "error", self._call(self.rma_inspector, "rma.disposition.batch.line", "write", row.ids, {"note": "shelf 4"})
        )
        self.assertNotIn("error", self._call(manager, "rma.disposition.batch", "action_confirm", batch.ids))
        self.assertRecordValues(batch, [{"state": "done", "confirmed_by_id": manager.id}])
        self.assertEqual(unit.state, "closed")

    # ------------------------------------------------------------------
    # 5. Leaving graded stock from a location below it
    # ------------------------------------------------------------------
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

    # ------------------------------------------------------------------
    # 6. Harvested parts, capped at the unit's recovery value
    # ------------------------------------------------------------------
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

    # ------------------------------------------------------------------
    # Periodic valuation: the harvest clears the recovery, once
    # ------------------------------------------------------------------
    def test_periodic_harvest_clears_the_recovery_and_closes_once(self):
        """Periodic valuation: the harvest posts the lines that touch no stock valuation account, Dr disposal
        expense / Cr recovery clearing at the parts' value; the stock closing then books the parts into stock against
        the disposal expense (its reclassification of the moves out of the harvest location). The recovery clearing
        account holds nothing for the unit, and the disposal expense ends at the unit's book value."""
        product = self._new_product("fifo", "periodic")
        unit = self._inspected_units(product, ["G18-P001"], PRICE)
        self._dispose(unit, self.code["PH"], recovery_value=RECOVERY)
        accounts = self.code["PH"]._get_accounts(product, self.company)
        disposal, income, recovery = accounts["location"], accounts["income"], accounts["recovery"]
        part = self.env["product.product"].create(
            {"name": "Test RAM (periodic)", "type": "consu", "is_storable": True, "categ_id": product.categ_id.id}
        )
        self.assertEqual(part.valuation, "periodic")
        self.assertAlmostEqual(self._balance(unit, recovery), RECOVERY, msg="the disposition's recovery receivable")

        self._harvest(unit, [(part, 2.0, RECOVERY / 2)])
        harvest = unit.account_move_line_ids.filtered(lambda aml: part.display_name in aml.name).sorted("debit")
        self.assertRecordValues(
            harvest,
            [
                {"account_id": recovery.id, "debit": 0.0, "credit": RECOVERY, "rma_line_id": unit.id},
                {"account_id": disposal.id, "debit": RECOVERY, "credit": 0.0, "rma_line_id": unit.id},
            ],
        )
        self.assertAlmostEqual(self._balance(unit, recovery), 0.0, msg="the parts in stock clear the recovery")
        self.assertFalse(set(harvest.account_id) & set(self.company.stock_value()), "no stock valuation account")

        self.company.action_close_stock_valuation(auto_post=True)
        stock_account = self.stock_valuation_account
        self.assertAlmostEqual(self.company.stock_value()[stock_account], RECOVERY, msg="only the parts are in stock")
        self.assertAlmostEqual(self.company.stock_accounting_value()[stock_account], RECOVERY)
        self.assertAlmostEqual(self._account_balance(disposal), PRICE, msg="the unit's book value, expensed once")
        self.assertAlmostEqual(self._account_balance(income), -RECOVERY)
        self.assertAlmostEqual(self._account_balance(recovery), 0.0)

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------
    def _balance(self, line, account):
        return sum(line.account_move_line_ids.filtered(lambda aml: aml.account_id == account).mapped("balance"))

    def _account_balance(self, account):
        lines = self.env["account.move.line"].search(
            [("account_id", "=", account.id), ("company_id", "=", self.company.id), ("parent_state", "=", "posted")]
        )
        return sum(lines.mapped("balance"))
