from unittest.mock import patch

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged
from odoo.tools.safe_eval import safe_eval

from .common_disposition import RmaDispositionCommon


@tagged("post_install", "-at_install")
class TestRmaDisposition(RmaDispositionCommon):
    """The disposition wizard: units, repair orders, custody, all-or-nothing, access and bad input."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.grade_b = cls.env.ref("rma_recovery.rma_grade_b")
        cls.product = cls._new_product("fifo", "real_time")

    def _state(self, lines):
        """Everything a confirmation writes, to compare before and after a refused one."""
        lines.invalidate_recordset()
        return {
            "units": lines.read(["state", "location_id", "disposition_id", "custody_sequence", "repair_id"]),
            "moves": lines.receipt_move_ids.ids,
            "journal_items": lines.account_move_line_ids.ids,
            "repairs": self.env["repair.order"].search_count([("rma_line_id", "in", lines.ids)]),
            "quants": [self._unit_quants(line) for line in lines],
        }

    def test_batch_over_rmas_and_codes(self):
        first = self._inspected_units(self.product, ["BT-0001", "BT-0002"])
        second = self._inspected_units(self.product, ["BT-0003", "BT-0004"], customer=self.other_customer)
        lines = first | second
        wizard = Form(
            self.env["rma.disposition.wizard"]
            .with_user(self.rma_manager)
            .with_context(active_model="rma.order", active_ids=lines.rma_id.ids)
        )
        self.assertEqual(len(wizard.line_ids), 4, "the RMAs' inspected units")
        with wizard.line_ids.edit(0) as row:
            self.assertEqual(row.disposition_id, self.code["RTS"], "defaults to the inspection's suggestion")

        rts, ref, rep, sd = lines
        codes = {rts: self.code["RTS"], ref: self.code["REF"], rep: self.code["REP"], sd: self.code["SD"]}
        self._dispose(
            lines,
            codes,
            per_unit={
                ref: {"net_realizable_value": 450.0, "work_cost": 30.0},
                rep: {"repair_level": "l3", "net_realizable_value": 420.0},
            },
        )
        self.assertRecordValues(
            lines,
            [
                {"state": "closed", "location_id": self.stock_location.id, "work_cost": 0.0},
                {"state": "in_progress", "location_id": self.warehouse_locations["REF"].id, "work_cost": 30.0},
                {
                    "state": "in_progress",
                    "location_id": self.warehouse_locations["REP"].id,
                    "work_cost": self.code["REP"].repair_cost_l3,
                },
                {"state": "disposition", "location_id": self.warehouse_locations["SD"].id, "work_cost": 0.0},
            ],
        )
        self.assertTrue(sd.requires_certificate, "destroyed units wait for their certificate")
        self.assertEqual(first.rma_id.state, "in_progress")
        batch = lines.disposition_batch_id
        self.assertEqual(len(batch), 1, "one batch document for the confirmation")
        self.assertRecordValues(
            batch, [{"state": "done", "prepared_by_id": self.rma_manager.id, "confirmed_by_id": self.rma_manager.id}]
        )
        self.assertEqual(batch.line_ids.unit_id, lines)
        self.assertEqual(batch.move_ids.rma_line_id, lines, "each unit's move out of quarantine")
        self.assertEqual(batch.line_ids.mapped("book_value"), lines.mapped("book_value"))

        # The repair order of the REP unit: its serial, level, from Repair WIP to graded stock.
        self.assertRecordValues(
            rep.repair_id,
            [
                {
                    "state": "confirmed",
                    "product_id": self.product.id,
                    "lot_id": rep.lot_id.id,
                    "rma_line_id": rep.id,
                    "rma_id": rep.rma_id.id,
                    "rma_repair_level": "l3",
                    "product_location_src_id": self.warehouse_locations["REP"].id,
                    "product_location_dest_id": self.graded_location.id,
                }
            ],
        )
        self.assertEqual(second.rma_id.repair_count, 1)
        self.assertEqual(second.rma_id.action_view_repairs()["res_id"], rep.repair_id.id)

        # One addon entry for the batch, referenced by the batch (it spans two RMAs); each line traceable to its unit.
        addon_entries = lines.account_move_line_ids.move_id.filtered(
            lambda entry: (
                entry.journal_id == self.company._get_rma_journal() and "RECEIPT" not in entry.line_ids[0].name
            )
        )
        self.assertEqual(len(addon_entries), 1)
        self.assertEqual(addon_entries.ref, batch.name)
        self.assertIn(addon_entries, batch.account_move_ids)
        self.assertEqual(addon_entries.line_ids.rma_line_id, ref | rep, "write-downs and accruals of REF and REP")
        self.assertEqual(set(addon_entries.line_ids.rma_disposition_id.mapped("code")), {"REF", "REP"})
        self.assertTrue(all(line.rma_id.name in line.name for line in addon_entries.line_ids))
        # The RMA lists every journal item of its units, Odoo's valuation lines included.
        items = self.env["account.move.line"].search(first.rma_id.action_view_journal_items()["domain"])
        self.assertEqual(items, first.account_move_line_ids)
        self.assertIn(self.wip_account, items.account_id)

        # Custody: each unit's chain records the disposition (with the handoff) and the new status.
        for line in lines:
            events = line.custody_event_ids.sorted("sequence")
            self.assertEqual(events[-2:].mapped("event_type"), ["disposition", "status"])
            self.assertEqual(events[-2].location_id, self.quarantine)
            self.assertEqual(events[-2].location_dest_id, line.location_id)
        self.assertTrue(self.env["rma.custody.event"]._check_integrity(self.company)["ok"])

        # Units in WIP or destroyed are not available to deliveries; the returned-to-stock one is.
        quant_model = self.env["stock.quant"]
        self.assertEqual(quant_model._get_available_quantity(self.product, self.stock_location, lot_id=rts.lot_id), 1.0)
        for line in (ref, rep, sd):
            self.assertEqual(
                quant_model._get_available_quantity(self.product, self.stock_location, lot_id=line.lot_id), 0.0
            )
            self.assertNotEqual(line.location_id.usage, "internal")

    def test_failure_midway_leaves_nothing(self):
        lines = self._inspected_units(self.product, ["FM-0001", "FM-0002", "FM-0003"])
        before = self._state(lines)
        wip_location = self.warehouse_locations["REF"]
        self.assertFalse(wip_location.valuation_account_id)
        ref, ph, rep = lines
        codes = {ref: self.code["REF"], ph: self.code["PH"], rep: self.code["REP"]}
        per_unit = {
            ref: {"net_realizable_value": 300.0},
            ph: {"recovery_value": 20.0},
            rep: {"repair_level": "l1", "net_realizable_value": 300.0},
        }
        # The moves are done and the entries posted when the repair orders are created: fail there.
        with (
            patch.object(
                self.registry["rma.disposition.batch.line"],
                "_create_repair_orders",
                side_effect=UserError("repair service down"),
            ),
            self.assertRaisesRegex(UserError, "repair service down"),
        ):
            self._dispose(lines, codes, per_unit=per_unit)
        self.assertEqual(self._state(lines), before)
        self.assertFalse(wip_location.valuation_account_id, "the location setup is rolled back too")
        self.assertFalse(self.env["account.move.line"].search_count([("rma_disposition_id", "!=", False)]))

    def test_only_managers_confirm(self):
        line = self._inspected_units(self.product, ["AC-D001"])
        for user in (self.rma_user, self.rma_inspector):
            with self.subTest(user=user.login):
                with self.assertRaises(AccessError):
                    self._dispose(line, self.code["RTS"], user=user)
                with self.assertRaises(AccessError):
                    self._confirm_batch({line: {"disposition_id": self.code["RTS"].id}}, user=user)
        self.assertEqual(line.state, "inspection")
        self._dispose(line, self.code["SD"])
        self.assertEqual(line.location_id, self.warehouse_locations["SD"])

        # Accountants (no returns rights) read the entries, labelled with the RMA, and follow them to the RMA.
        accountant = self._new_user("rma_accountant", "account.group_account_user")
        action = (
            self.env["ir.actions.act_window"]
            .with_user(accountant)
            ._for_xml_id("rma_recovery.account_move_line_action_rma")
        )
        items = self.env["account.move.line"].with_user(accountant).search(safe_eval(action["domain"]))
        self.assertEqual(items, line.account_move_line_ids)
        self.assertEqual(items.rma_id.name, line.rma_id.name)
        # Posted RMA entries are append-only: the company seal hash-locks them.
        self.env["rma.custody.seal"]._seal(self.company)
        entries = items.move_id.filtered(lambda entry: entry.journal_id == self.company._get_rma_journal())
        self.assertTrue(entries and all(entries.mapped("inalterable_hash")))
        with self.assertRaisesRegex(UserError, "locked"):
            entries.with_user(accountant).unlink()

    def test_bad_input_is_refused_and_writes_nothing(self):
        inspected = self._inspected_units(self.product, ["BI-0001", "BI-0002"])
        received = self._authorized_rma(["BI-0003"], product=self.product)
        self._scan(received.name, "BI-0003")
        moved = self._inspected_units(self.product, ["BI-0004"])
        shelf = self.env["stock.location"].create(
            {"name": "Inspected shelf", "location_id": self.warehouse.view_location_id.id, "barcode": "BI-SHELF"}
        )
        self.env["rma.scan"].custody_scan("BI-0004")
        self.env["rma.scan"].custody_scan(shelf.barcode, line_id=moved.id)
        unit, other = inspected
        ref, rep, ph = self.code["REF"], self.code["REP"], self.code["PH"]
        cases = [
            (unit, {"disposition_id": ref.id, "net_realizable_value": -5.0}, "between 0 and"),
            (unit, {"disposition_id": ph.id, "recovery_value": -1.0}, "between 0 and"),
            (unit, {"disposition_id": ref.id, "net_realizable_value": 300.0, "work_cost": -2.0}, "between 0 and"),
            (unit, {"disposition_id": ref.id, "net_realizable_value": float("nan")}, "a number below"),
            (unit, {"disposition_id": ref.id, "net_realizable_value": float("inf")}, "a number below"),
            (unit, {"disposition_id": ref.id, "net_realizable_value": 300.0, "work_cost": 1e20}, "a number below"),
            (unit, {"disposition_id": ph.id, "recovery_value": "12"}, "a number below"),
            (
                unit,
                {"disposition_id": rep.id, "net_realizable_value": 300.0, "repair_level": "l9"},
                "is not one of l1, l2, l3, l4",
            ),
            (unit, {"disposition_id": ph.id, "note": {"x": 1}}, "text is expected"),
            (unit, {"disposition_id": ref.id, "net_realizable_value": 0.0}, "net realizable value"),
            (unit, {"disposition_id": rep.id, "net_realizable_value": 300.0}, "repair level"),
            (unit, {}, "Choose a disposition code"),
            (received.line_ids, {"disposition_id": ph.id}, "no finished inspection"),
            (moved, {"disposition_id": ph.id}, "not in quarantine"),
        ]
        for lines, values, message in cases:
            with self.subTest(message=message, values=values):
                batch = lines | other  # a valid unit in the same batch is not disposed either
                before = self._state(batch)
                all_values = {lines: values, other: {"disposition_id": ph.id, "recovery_value": 10.0}}
                with self.assertRaisesRegex(UserError, message), self.env.cr.savepoint():
                    self._confirm_batch(all_values)
                self.assertEqual(self._state(batch), before)
        with self.assertRaisesRegex(UserError, "None of these units"):
            Form(
                self.env["rma.disposition.wizard"]
                .with_user(self.rma_manager)
                .with_context(active_model="rma.line", active_ids=received.line_ids.ids)
            )

    def test_missing_or_conflicting_account_is_a_configuration_error(self):
        unit = self._inspected_units(self.product, ["MA-0001"])
        before = self._state(unit)
        values = {unit: {"disposition_id": self.code["REF"].id, "net_realizable_value": 300.0}}
        wip = self.company.account_production_wip_account_id
        self.company.account_production_wip_account_id = False
        with self.assertRaisesRegex(UserError, "REF - Refurbish has no destination account"):
            self._confirm_batch(values)
        self.assertEqual(self._state(unit), before)

        self.company.account_production_wip_account_id = wip
        self.warehouse_locations["REF"].valuation_account_id = self.expense_account
        with self.assertRaisesRegex(UserError, "make them the same"):
            self._confirm_batch(values)
        self.assertEqual(self._state(unit), before)

        # A code's own account wins over the defaults.
        self.warehouse_locations["REF"].valuation_account_id = False
        self.code["REF"].with_company(self.company).location_account_id = self.expense_account
        self._confirm_batch(values)
        self.assertEqual(self.warehouse_locations["REF"].valuation_account_id, self.expense_account)
        self.assertIn(self.expense_account, unit.account_move_line_ids.account_id)

    def test_multi_company(self):
        unit = self._inspected_units(self.product, ["MC-0001"])
        other_company = self.env["res.company"].create({"name": "RMA Other Company"})
        self.env["account.chart.template"]._load("generic_coa", other_company, install_demo=False)
        foreign_code = self.env["rma.disposition"].create(
            {
                "name": "Broker resale",
                "code": "BRK",
                "treatment": "salvage",
                "destination": "rma_recycle_location_id",
                "company_id": other_company.id,
            }
        )
        # Refused whichever check comes first: the code's company, or the manager's access to it.
        with self.assertRaises(UserError), self.env.cr.savepoint():
            self._confirm_batch({unit: {"disposition_id": foreign_code.id}})
        self.assertEqual(unit.state, "inspection")
        # Shared codes post to each company's own accounts.
        accrued = self.code["REF"]._get_accounts(self.product, self.company)["accrued_cost"]
        other_accrued = self.code["REF"]._get_accounts(self.product, other_company)["accrued_cost"]
        self.assertEqual(accrued.company_ids, self.company)
        self.assertEqual(other_accrued.company_ids, other_company)
        # A manager of the other company only does not see this company's units.
        other_manager = self._new_user("rma_other_manager", "rma_recovery.group_rma_manager", company=other_company)
        with self.assertRaises(AccessError):
            self.env["rma.line"].with_user(other_manager).browse(unit.id).read(["state"])

    def test_repair_done_by_a_repair_technician_finishes_the_unit(self):
        unit = self._inspected_units(self.product, ["RP-0001"])
        self._dispose(unit, self.code["REP"], repair_level="l1", net_realizable_value=350.0)
        technician = self._new_user("repair_technician", "stock.group_stock_user")
        repair = unit.repair_id.with_user(technician)
        repair.action_repair_start()
        repair.action_repair_end()
        self.assertEqual(unit.repair_id.state, "done")
        self.assertRecordValues(unit, [{"state": "ready", "location_id": self.graded_location.id}])
        self.assertEqual(self._unit_quants(unit), {self.graded_location: 1.0})
        last = unit.custody_event_ids.sorted("sequence")[-2:]
        self.assertEqual(last.mapped("event_type"), ["move", "status"])
        self.assertIn(unit.repair_id.name, last[0].note)
        self.assertEqual(unit.repair_id.move_id.rma_line_id, unit)
        # A repair order's unit comes back through its repair order only.
        with self.assertRaisesRegex(UserError, "refurbishment"):
            unit.with_user(self.rma_inspector).action_finish_refurbishment()

    def test_units_in_work_leave_wip_only_when_finished(self):
        unit = self._inspected_units(self.product, ["WK-0001"])
        self._dispose(unit, self.code["REF"], net_realizable_value=400.0)
        self.env["rma.scan"].custody_scan("WK-0001")
        with self.assertRaisesRegex(UserError, "comes back when its refurbishment"):
            self.env["rma.scan"].custody_scan(self.graded_location.barcode, line_id=unit.id)
        with self.assertRaises(AccessError):
            unit.with_user(self.rma_user).action_finish_refurbishment()
        unit.with_user(self.rma_inspector).action_finish_refurbishment()
        self.assertRecordValues(unit, [{"state": "ready", "location_id": self.graded_location.id}])
        self.assertEqual(
            self.env["stock.quant"]._get_available_quantity(self.product, self.graded_location, lot_id=unit.lot_id), 1.0
        )

    def test_analytic_distribution_models_apply_to_rma_lines(self):
        plan = self.env["account.analytic.plan"].create({"name": "Returns"})
        analytic = self.env["account.analytic.account"].create(
            {"name": "Refurbishment desk", "plan_id": plan.id, "company_id": self.company.id}
        )
        self.env["account.analytic.distribution.model"].create(
            {
                "product_id": self.product.id,
                "account_prefix": self.wip_account.code,
                "analytic_distribution": {str(analytic.id): 100},
                "company_id": self.company.id,
            }
        )
        unit = self._inspected_units(self.product, ["AN-0001"])
        self._dispose(unit, self.code["REF"], net_realizable_value=300.0)
        wip_lines = unit.account_move_line_ids.filtered(lambda aml: aml.account_id == self.wip_account)
        self.assertEqual(len(wip_lines), 2, "Odoo's Dr WIP and the addon's write-down Cr WIP")
        analytic_lines = self.env["account.analytic.line"].search([("move_line_id", "in", wip_lines.ids)])
        for line in wip_lines:
            self.assertEqual(line.analytic_distribution, {str(analytic.id): 100})
            # The analytic item, made when the entry was posted (its account sits in the plan's own column).
            analytic_line = analytic_lines.filtered(lambda al, line=line: al.move_line_id == line)
            self.assertAlmostEqual(analytic_line.amount, -line.balance)
        others = unit.account_move_line_ids - wip_lines
        self.assertFalse(any(others.mapped("analytic_distribution")), "the model matches the WIP account only")

    def test_same_unit_twice_in_one_disposition_is_refused(self):
        line = self._authorized_rma(["HD-0401"]).line_ids
        self.env["stock.picking"]._rma_receive(line, station="DOCK-1")
        line.with_user(self.rma_inspector).action_start_inspection()
        line.inspection_id.with_user(self.rma_inspector).write(
            {"grade_id": self.env.ref("rma_recovery.rma_grade_a").id, "functional_result": "pass"}
        )
        line.inspection_id.with_user(self.rma_inspector).action_done()
        rts = self.env.ref("rma_recovery.rma_disposition_rts")
        wizard = (
            self.env["rma.disposition.wizard"]
            .with_user(self.rma_manager)
            .create(
                {
                    "line_ids": [
                        Command.create({"unit_id": line.id, "disposition_id": rts.id}),
                        Command.create({"unit_id": line.id, "disposition_id": rts.id}),
                    ]
                }
            )
        )
        with self.assertRaisesRegex(UserError, "appears twice"):
            wizard.action_confirm()
        self.assertEqual(line.state, "inspection")
