import io

from psycopg2 import IntegrityError

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged
from odoo.tools import mute_logger
from odoo.tools.pdf import PdfReader

from .common_disposition import RmaDispositionCommon
from .common_rpc import ACCESS_ERROR, USER_ERROR, RmaRpcCommon


@tagged("post_install", "-at_install")
class TestRmaDispositionBatch(RmaDispositionCommon):
    """The disposition batch: prepared by an inspector, confirmed by a manager, printable."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.second_manager = cls._new_user("rma_manager_2", "rma_recovery.group_rma_manager")

    def _prepare(self, units, codes, user=None, **values):
        """The wizard's Prepare Draft, as ``user`` (the inspector by default); ``codes``: one per unit."""
        wizard_model = self.env["rma.disposition.wizard"].with_user(user or self.rma_inspector)
        form = Form(wizard_model.with_context(active_model="rma.line", active_ids=units.ids))
        for index in range(len(form.line_ids)):
            with form.line_ids.edit(index) as row:
                row.disposition_id = codes[index]
                for name, value in values.items():
                    setattr(row, name, value)
        action = form.save().action_prepare()
        return self.env["rma.disposition.batch"].browse(action["res_id"])

    def test_inspector_prepares_manager_confirms_and_prints(self):
        product = self._new_product("fifo", "real_time")
        product.list_price = 1000.0
        units = self._inspected_units(product, ["DB-0001", "DB-0002"])
        batch = self._prepare(units, [self.code["RTS"], self.code["REF"]])
        self.assertRecordValues(
            batch,
            [
                {
                    "state": "draft",
                    "prepared_by_id": self.rma_inspector.id,
                    "confirmed_by_id": False,
                    "company_id": self.company.id,
                }
            ],
        )
        self.assertTrue(batch.name.startswith("DISP/"))
        rts_line, ref_line = batch.line_ids.sorted("id")
        self.assertRecordValues(
            batch.line_ids.sorted("id"),
            [
                {"unit_id": units[0].id, "serial_number": "DB-0001", "product_id": product.id},
                {"unit_id": units[1].id, "serial_number": "DB-0002", "product_id": product.id},
            ],
        )
        # Net realizable value suggested from the table: grade A is 80% of the sales price; none for RTS.
        self.assertEqual(rts_line.net_realizable_value, 0.0)
        self.assertAlmostEqual(ref_line.net_realizable_value, 800.0)
        self.assertEqual(set(units.mapped("state")), {"inspection"}, "a draft moves nothing")
        self.assertFalse(batch.move_ids)

        # The preparer edits a line; only a manager confirms.
        ref_line.with_user(self.rma_inspector).net_realizable_value = 420.0
        self.assertFalse(batch.with_user(self.rma_inspector).can_be_confirmed)
        with self.assertRaises(AccessError):
            batch.with_user(self.rma_inspector).action_confirm()
        batch.with_user(self.rma_manager).action_confirm()

        self.assertRecordValues(batch, [{"state": "done", "confirmed_by_id": self.rma_manager.id}])
        self.assertEqual(units.disposition_batch_id, batch)
        self.assertRecordValues(
            units,
            [
                {"state": "closed", "net_realizable_value": 0.0},
                {"state": "in_progress", "net_realizable_value": 420.0},
            ],
        )
        self.assertEqual(batch.line_ids.mapped("book_value"), units.mapped("book_value"))
        self.assertEqual(batch.move_ids, batch.line_ids.move_id)
        self.assertEqual(batch.move_ids.rma_line_id, units)
        # One Odoo valuation entry (REF leaves stock) and one addon entry (write-down), both listed.
        valuation = batch.move_ids.account_move_id
        addon = batch.account_move_ids - valuation
        self.assertEqual(len(valuation), 1)
        self.assertEqual(len(addon), 1)
        self.assertEqual(addon.ref, units.rma_id.name)
        self.assertEqual(batch.account_move_count, 2)

        # Done is final: nothing on it changes, and it stays.
        with self.assertRaisesRegex(UserError, "no longer a draft"):
            ref_line.with_user(self.rma_manager).net_realizable_value = 1.0
        with self.assertRaises(AccessError):
            batch.with_user(self.rma_manager).write({"state": "draft"})
        with self.assertRaisesRegex(UserError, "stays"):
            batch.with_user(self.rma_manager).unlink()

        # The PDF lists the units with their codes and values and the entries it posted.
        pdf, _type = (
            self.env["ir.actions.report"]
            .with_context(force_report_rendering=True)
            ._render_qweb_pdf("rma_recovery.action_report_disposition_batch", batch.ids)
        )
        text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages)
        for expected in (batch.name, "DB-0001", "DB-0002", "RTS", "REF", "420.00", self.rma_manager.name, addon.name):
            self.assertIn(" ".join(expected.split()), text)

    def test_segregation_of_duties(self):
        units = self._inspected_units(self.laptop, ["DB-0101"])
        self.company.rma_disposition_segregation = True
        batch = self._prepare(units, [self.code["RTS"]], user=self.rma_manager)
        with self.assertRaisesRegex(UserError, "another manager confirms it"):
            batch.with_user(self.rma_manager).action_confirm()
        self.assertEqual(batch.state, "draft")
        # The quick way cannot skip the second manager either.
        with self.assertRaisesRegex(UserError, "another manager"):
            self._dispose(units, self.code["RTS"])
        self.assertEqual(units.state, "inspection")
        batch.with_user(self.second_manager).action_confirm()
        self.assertRecordValues(
            batch,
            [{"state": "done", "prepared_by_id": self.rma_manager.id, "confirmed_by_id": self.second_manager.id}],
        )
        self.assertEqual(units.state, "closed")

    def test_quick_confirmation_records_its_batch(self):
        units = self._inspected_units(self.laptop, ["DB-0201"])
        self._dispose(units, self.code["RTS"])
        batch = units.disposition_batch_id
        self.assertRecordValues(
            batch, [{"state": "done", "prepared_by_id": self.rma_manager.id, "confirmed_by_id": self.rma_manager.id}]
        )

    def test_draft_is_cancelled_and_its_units_disposed_elsewhere(self):
        units = self._inspected_units(self.laptop, ["DB-0301"])
        draft = self._prepare(units, [self.code["RTS"]])
        draft.with_user(self.rma_inspector).action_cancel()
        self.assertEqual(draft.state, "cancel")
        with self.assertRaisesRegex(UserError, "no longer a draft"):
            draft.with_user(self.rma_manager).action_confirm()
        self._dispose(units, self.code["RTS"])
        self.assertNotEqual(units.disposition_batch_id, draft)

    def test_server_owns_the_batch_facts(self):
        units = self._inspected_units(self.laptop, ["DB-0401"])
        batch_model = self.env["rma.disposition.batch"]
        for forged in (
            {"name": "DISP/FORGED"},
            {"state": "done"},
            {"prepared_by_id": self.rma_manager.id},
            {"confirmed_by_id": self.rma_manager.id},
        ):
            with self.subTest(forged=forged), self.assertRaises(AccessError):
                batch_model.with_user(self.rma_inspector).create({"company_id": self.company.id, **forged})
        with self.assertRaises(AccessError):
            batch_model.with_user(self.rma_user).create({"company_id": self.company.id})
        batch = self._prepare(units, [self.code["RTS"]])
        with self.assertRaises(AccessError):
            batch.line_ids.with_user(self.rma_inspector).write({"book_value": 1.0})

    def test_net_realizable_value_table_most_specific_rule(self):
        product = self._new_product("fifo", "real_time")
        product.list_price = 1000.0
        rule_model = self.env["rma.nrv.rule"]
        rule_model.create({"grade_id": self.grade_a.id, "categ_id": product.categ_id.id, "share_percent": 50.0})
        units = self._inspected_units(product, ["DB-0501"])
        self.assertEqual(rule_model._suggest(units), {units: 500.0}, "the category's rule before the generic one")
        other = self._inspected_units(self.laptop, ["DB-0502"])
        self.laptop.list_price = 200.0
        self.assertEqual(rule_model._suggest(other), {other: 160.0}, "the generic grade A rule: 80%")
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.env.cr.savepoint():
            rule_model.create({"grade_id": self.grade_a.id, "share_percent": 120.0}).flush_recordset()

    def test_draft_batch_shows_the_units_book_value(self):
        """Before confirmation, each unit is carried at the value Odoo gave its receipt: the draft batch shows it."""
        product = self._new_product("fifo", "real_time")
        serials = [f"DB-06{index:02d}" for index in range(6)]
        units = self._inspected_units(product, serials, price=850.0)
        receipt_values = units.mapped("receipt_value")
        self.assertTrue(all(receipt_values), "each unit came back with a value")
        batch = self._prepare(units, [self.code["RTS"]] * 3 + [self.code["PH"]] * 3)
        self.assertEqual(batch.state, "draft")
        lines = batch.line_ids.sorted(lambda line: units.ids.index(line.unit_id.id))
        self.assertEqual(lines.mapped("book_value"), receipt_values)
        self.assertAlmostEqual(batch.total_book_value, sum(receipt_values))
        # The RTS units already recover their book value on the draft, as the recovery report will count them.
        self.assertEqual(lines[:3].mapped("recovered_value"), receipt_values[:3])

    def test_batch_recovery_value_is_the_recovery_reports(self):
        """The batch's Recovery Value per unit is the value the recovery KPI counts for it (one rule: RTS recovers
        its book value, REF/REP the net realizable value less the work cost, PH/REC the recovery value, SD nothing)."""
        product = self._new_product("fifo", "real_time")
        product.list_price = 1000.0
        units = self._inspected_units(product, ["DB-0701", "DB-0702", "DB-0703", "DB-0704", "DB-0705"], price=850.0)
        codes = [self.code[code] for code in ("RTS", "RTS", "REF", "PH", "SD")]
        batch = self._prepare(units, codes)
        ph_line = batch.line_ids.filtered(lambda line: line.disposition_id == self.code["PH"])
        ph_line.with_user(self.rma_inspector).recovery_value = 35.0
        batch.with_user(self.rma_manager).action_confirm()
        self.assertEqual(batch.state, "done")

        kpi = dict(
            self.env["rma.kpi.unit"]
            .with_user(self.rma_manager)
            ._read_group([("unit_id", "in", units.ids)], ["unit_id"], ["recovered_value:sum"])
        )
        for line in batch.line_ids:
            with self.subTest(code=line.disposition_id.code):
                self.assertAlmostEqual(line.recovered_value, kpi[line.unit_id])
                self.assertAlmostEqual(line.recovered_value, line.unit_id.recovered_value)
        rts = batch.line_ids.filtered(lambda line: line.disposition_id == self.code["RTS"])
        self.assertEqual(rts.mapped("recovered_value"), rts.unit_id.mapped("receipt_value"), "RTS recovers C")
        self.assertTrue(all(rts.mapped("recovered_value")))
        self.assertAlmostEqual(batch.total_recovery_value, sum(kpi.values()))
        # The PDF prints it in the Recovery Value column, and the batch's total.
        html = (
            self.env["ir.actions.report"]
            .with_user(self.rma_manager)
            ._render_qweb_html("rma_recovery.action_report_disposition_batch", batch.ids)[0]
            .decode()
        )
        for amount in (*rts.mapped("recovered_value"), batch.total_recovery_value):
            self.assertIn(f'<span class="oe_currency_value">{amount:,.2f}</span>', html)


@tagged("post_install", "-at_install")
class TestRmaDispositionBatchRpc(RmaRpcCommon):
    """Disposition batches over JSON-RPC: prepared by inspectors, confirmed by a manager (another one under segregation
    of duties), never rewritten once confirmed."""

    def test_disposition_batch_rights_over_rpc(self):
        """An inspector prepares but cannot confirm or forge a batch; under segregation of duties the manager who
        prepared it cannot confirm it; nobody rewrites a confirmed batch."""
        unit = self._inspected_units(self.laptop, ["RPC-B001"])
        prepared = self._call(
            self.rma_inspector,
            "rma.disposition.batch",
            "create",
            {"line_ids": [Command.create({"unit_id": unit.id, "disposition_id": self.code["RTS"].id})]},
        )
        self.assertNotIn("error", prepared)
        batch = self.env["rma.disposition.batch"].browse(prepared["result"])
        self.assertEqual(batch.prepared_by_id, self.rma_inspector)
        for model, method, args, error in [
            ("rma.disposition.batch", "action_confirm", [batch.ids], ACCESS_ERROR),
            ("rma.disposition.batch", "write", [batch.ids, {"state": "done"}], ACCESS_ERROR),
            ("rma.disposition.batch", "write", [batch.ids, {"prepared_by_id": self.rma_manager.id}], ACCESS_ERROR),
            ("rma.disposition.batch.line", "write", [batch.line_ids.ids, {"book_value": 1.0}], ACCESS_ERROR),
            ("rma.disposition.batch", "create", [{"name": "DISP/FORGED", "state": "done"}], ACCESS_ERROR),
        ]:
            with self.subTest(method=method, args=args[1:]):
                self.assertRefused(self._call(self.rma_inspector, model, method, *args), error)
        self.assertRefused(
            self._call(self.rma_user, "rma.disposition.batch", "create", {"company_id": self.company.id})
        )

        self.company.rma_disposition_segregation = True
        own = self.env["rma.disposition.batch"].browse(
            self._call(self.rma_manager, "rma.disposition.batch", "create", {"company_id": self.company.id})["result"]
        )
        self.assertRefused(self._call(self.rma_manager, "rma.disposition.batch", "action_confirm", own.ids), USER_ERROR)
        self.assertNotIn("error", self._call(self.rma_manager, "rma.disposition.batch", "action_confirm", batch.ids))
        self.assertRecordValues(batch, [{"state": "done", "confirmed_by_id": self.rma_manager.id}])
        self.assertEqual(unit.state, "closed")
        self.assertRefused(
            self._call(self.rma_manager, "rma.disposition.batch.line", "write", batch.line_ids.ids, {"note": "x"}),
            USER_ERROR,
        )

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
