import io

from psycopg2 import IntegrityError

from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, new_test_user, tagged
from odoo.tools import mute_logger
from odoo.tools.pdf import PdfReader

from .common_disposition import RmaDispositionCommon


@tagged("post_install", "-at_install")
class TestRmaDispositionBatch(RmaDispositionCommon):
    """The disposition batch: prepared by an inspector, confirmed by a manager, printable."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.second_manager = new_test_user(
            cls.env,
            login="rma_manager_2",
            groups="rma_recovery.group_rma_manager",
            company_id=cls.company.id,
            company_ids=[(6, 0, cls.company.ids)],
        )

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
