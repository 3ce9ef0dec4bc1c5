import io

import openpyxl

from odoo import Command, fields
from odoo.tests import HttpCase, new_test_user, tagged

from .common_disposition import RmaDispositionCommon
from .common_rpc import ACCESS_ERROR, FORGED_CONTEXT, USER_ERROR, RmaRpcMixin


@tagged("post_install", "-at_install")
class TestRmaRpcSecurity(RmaRpcMixin, RmaDispositionCommon, HttpCase):
    """What the screens forbid, the server refuses: each call goes over JSON-RPC (/web/dataset/call_kw) as the user
    who must be refused, with every context key the addon reads set to a forged value."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_inspector = new_test_user(
            cls.env,
            login="rma_inspector_2",
            groups="rma_recovery.group_rma_inspector",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )

    # ------------------------------------------------------------------
    # Returns User
    # ------------------------------------------------------------------
    def test_returns_user_cannot_forge_a_decision(self):
        self._deliver(self.customer, self.laptop, ["RPC-0001", "RPC-0002"])
        rma = self._create_rma([(self.laptop, "RPC-0001")], user=self.rma_user)
        line = rma.line_ids
        other_lot = self.env["stock.lot"].search([("name", "=", "RPC-0002")])
        user = self.rma_user
        calls = [
            ("rma.order", "action_authorize", [rma.ids]),
            ("rma.order", "write", [rma.ids, {"state": "authorized", "name": "RMA/FORGED/1"}]),
            ("rma.order", "write", [rma.ids, {"authorized_by_id": user.id}]),
            ("rma.order", "write", [rma.ids, {"request_date": "2020-01-01 00:00:00"}]),
            ("rma.order", "action_reject", [rma.ids, "no"]),
            ("rma.order", "action_cancel", [rma.ids]),
            ("rma.reject.wizard", "create", [{"rma_ids": [Command.set(rma.ids)], "reason": "no"}]),
            ("rma.override.wizard", "create", [{"rma_ids": [Command.set(rma.ids)], "reason": "mine"}]),
            ("rma.line", "_action_override", [line.ids, "mine"]),
            ("rma.line", "write", [line.ids, {"override_reason": "self-approved"}]),
            ("rma.line", "write", [line.ids, {"is_overridden": True}]),
            ("rma.line", "write", [line.ids, {"state": "received", "received_date": "2026-01-01 00:00:00"}]),
            ("rma.line", "write", [line.ids, {"book_value": 1.0, "carrying_value": 1.0}]),
            ("rma.line", "write", [line.ids, {"lot_id": other_lot.id}]),
            ("rma.line", "write", [line.ids, {"delivery_move_id": False}]),
            ("rma.line", "write", [line.ids, {"partner_id": self.other_customer.id}]),
            (
                "rma.line",
                "create",
                [{"rma_id": rma.id, "product_id": self.laptop.id, "serial_number": "RPC-0009", "custody_sequence": 4}],
            ),
            (
                "rma.line",
                "create",
                [{"rma_id": rma.id, "product_id": self.laptop.id, "serial_number": "RPC-0009", "is_overridden": True}],
            ),
            (
                "rma.line",
                "create",
                [{"rma_id": rma.id, "product_id": self.laptop.id, "serial_number": "RPC-0009", "lot_id": other_lot.id}],
            ),
        ]
        for model, method, args in calls:
            with self.subTest(model=model, method=method, args=args[1:]):
                self.assertRefused(self._call(user, model, method, *args))
        self.assertRecordValues(rma, [{"state": "draft", "name": False, "authorized_by_id": False}])
        self.assertRecordValues(
            line, [{"state": "draft", "is_overridden": False, "override_reason": False, "book_value": 0.0}]
        )
        self.assertEqual(len(rma.line_ids), 1)
        # What the request itself holds stays the requester's to edit.
        self.assertNotIn("error", self._call(user, "rma.order", "write", rma.ids, {"customer_reference": "PO-7"}))
        self.assertEqual(rma.customer_reference, "PO-7")

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
        stock_user = new_test_user(
            self.env,
            login="rpc_stock_user",
            groups="stock.group_stock_user",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        for move, value in ((other_move, unit.id), (receipt, False)):
            self.assertRefused(self._call(stock_user, "stock.move", "write", move.ids, {"rma_line_id": value}))
        self.assertTrue(held.is_substitution)
        self.assertEqual(unit.receipt_move_ids, receipt)
        self.assertFalse(other_move.rma_line_id)
        self.assertEqual(unit.location_id, self.quarantine)

    # ------------------------------------------------------------------
    # Inspector
    # ------------------------------------------------------------------
    def test_inspector_cannot_finish_for_someone_else_or_dispose(self):
        rma = self._authorized_rma(["RPC-0201", "RPC-0202"])
        rma.line_ids._action_receive(station="DOCK-1")
        unit, waiting = rma.line_ids
        unit.with_user(self.rma_inspector).action_start_inspection()
        inspection = unit.inspection_id
        inspection.with_user(self.rma_inspector).write({"grade_id": self.grade_a.id, "functional_result": "pass"})
        other = self.other_inspector
        for model, method, args in [
            ("rma.inspection", "action_done", [inspection.ids]),
            ("rma.inspection", "write", [inspection.ids, {"state": "done"}]),
            ("rma.inspection", "write", [inspection.ids, {"technician_id": other.id}]),
            ("rma.inspection", "write", [inspection.ids, {"date": "2020-01-01 00:00:00"}]),
            ("rma.inspection", "write", [inspection.ids, {"lot_id": False}]),
            ("rma.inspection", "create", [{"line_id": waiting.id, "grade_id": self.grade_a.id}]),
        ]:
            with self.subTest(method=method, args=args[1:]):
                self.assertRefused(self._call(other, model, method, *args))
        self.assertRecordValues(inspection, [{"state": "draft", "technician_id": self.rma_inspector.id}])
        self.assertEqual(waiting.inspection_ids.ids, [])
        # The technician who opened it finishes it.
        self.assertNotIn("error", self._call(self.rma_inspector, "rma.inspection", "action_done", inspection.ids))
        self.assertEqual(inspection.state, "done")
        finished = unit.custody_event_ids.filtered(lambda event: event.event_type == "inspection")
        self.assertEqual(finished.user_id, self.rma_inspector)
        # An inspector prepares the disposition (the wizard, a draft batch) but cannot confirm it.
        wizard = self._call(
            other,
            "rma.disposition.wizard",
            "create",
            {"line_ids": [Command.create({"unit_id": unit.id, "disposition_id": self.code["RTS"].id})]},
        )
        self.assertNotIn("error", wizard)
        self.assertRefused(self._call(other, "rma.disposition.wizard", "action_confirm", [wizard["result"]]))
        self.assertEqual(unit.state, "inspection")
        self.assertFalse(self.env["rma.disposition.batch"].search([("line_ids.unit_id", "=", unit.id)]))

    # ------------------------------------------------------------------
    # Forged caches change nothing
    # ------------------------------------------------------------------
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

    # ------------------------------------------------------------------
    # Integrity report
    # ------------------------------------------------------------------
    def test_integrity_report_for_managers_of_the_company(self):
        url = f"/report/html/rma_recovery.report_custody_integrity/{self.company.id}"
        portal = new_test_user(self.env, login="rma_portal", groups="base.group_portal")
        for user in (portal, self.rma_user, self.rma_inspector):
            with self.subTest(user=user.login):
                self.authenticate(user.login, user.login)
                response = self.url_open(url)
                self.assertNotEqual(response.status_code, 200)
        self.authenticate(self.rma_manager.login, self.rma_manager.login)
        self.assertEqual(self.url_open(url).status_code, 200)
        foreign = self.env["res.company"].create({"name": "RPC Foreign Company"})
        response = self.url_open(f"/report/html/rma_recovery.report_custody_integrity/{foreign.id}")
        self.assertNotEqual(response.status_code, 200)

    # ------------------------------------------------------------------
    # Disposition batches and receipts
    # ------------------------------------------------------------------
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

    def test_rma_receipt_is_not_validated_as_a_whole_over_rpc(self):
        rma = self._authorized_rma(["RPC-R001"])
        picking = rma.receipt_picking_ids
        stock_manager = new_test_user(
            self.env,
            login="rpc_stock_manager",
            groups="stock.group_stock_manager",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        answer = self._call(stock_manager, "stock.picking", "button_validate", picking.ids)
        self.assertEqual(answer["result"]["tag"], "rma_recovery.receive", "Validate opens the Receive screen")
        self.assertRefused(self._call(stock_manager, "stock.picking", "write", picking.ids, {"rma_id": False}))
        self.assertRefused(
            self._call(stock_manager, "stock.move", "write", picking.move_ids.ids, {"rma_line_id": False})
        )
        self.assertEqual(picking.state, "assigned")
        self.assertEqual(rma.line_ids.state, "authorized")

    def test_remedies_over_rpc(self):
        """Warehouse staff draft credit notes and cannot post them; only a manager confirms a remedy; a client writes
        no remedy, link or delivery of a unit."""
        product = self._new_product("fifo")
        order = self._sold_and_invoiced(500.0, product, ["RPC-CN01"])
        rma = self._create_rma([(product, "RPC-CN01")], sale_order_id=order.id)
        rma.action_authorize()
        unit = rma.line_ids
        unit._action_receive(station="DOCK-1")
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

    def test_sanitization_and_block_over_rpc(self):
        """Over JSON-RPC: the performer cannot validate their own certificate, nobody writes a certificate's state or
        hash or a serial's block, and only a manager lifts a block."""
        product = self._new_product("fifo")
        self._purchase(product, ["RPC-SAN1"], 500.0)
        self._deliver(self.customer, product, ["RPC-SAN1"], from_stock=True)
        rma = self._create_rma([(product, "RPC-SAN1")])
        rma.action_authorize()
        unit = rma.line_ids
        unit._action_receive(station="DOCK-1")
        unit.with_user(self.rma_inspector).action_start_inspection()
        unit.inspection_id.with_user(self.rma_inspector).write(
            {
                "grade_id": self.grade_a.id,
                "functional_result": "pass",
                "is_data_bearing": True,
                "data_security": "destroy",
            }
        )
        unit.inspection_id.with_user(self.rma_inspector).action_done()
        certificate = unit.sanitization_ids
        certificate.with_user(self.rma_inspector).write({"tool": "Shredder X"})
        self.assertRefused(self._call(self.rma_user, "rma.sanitization", "action_perform", certificate.ids))
        self.assertNotIn("error", self._call(self.rma_inspector, "rma.sanitization", "action_perform", certificate.ids))
        self.assertRefused(
            self._call(self.rma_inspector, "rma.sanitization", "action_validate", certificate.ids), USER_ERROR
        )
        for vals in ({"state": "validated"}, {"hash": "0" * 64}, {"validated_by_id": self.other_inspector.id}):
            self.assertRefused(self._call(self.rma_manager, "rma.sanitization", "write", certificate.ids, vals))
        self.assertEqual(certificate.state, "performed")
        self._dispose(unit, self.code["SD"])
        self.assertNotIn(
            "error", self._call(self.other_inspector, "rma.sanitization", "action_validate", certificate.ids)
        )
        self.assertEqual(unit.state, "closed")
        lot = unit.lot_id
        self.assertTrue(lot.is_rma_blocked)
        self.assertRefused(self._call(self.rma_manager, "stock.lot", "write", lot.ids, {"is_rma_blocked": False}))
        self.assertRefused(
            self._call(self.rma_user, "stock.lot", "_action_rma_unblock", lot.ids, "x"), "odoo.exceptions.AccessError"
        )
        wizard = self._call(
            self.rma_user, "rma.unblock.wizard", "create", {"lot_ids": [Command.set(lot.ids)], "reason": "x"}
        )
        self.assertRefused(wizard)
        wizard_id = self._call(
            self.rma_manager, "rma.unblock.wizard", "create", {"lot_ids": [Command.set(lot.ids)], "reason": "audited"}
        )["result"]
        self.assertNotIn("error", self._call(self.rma_manager, "rma.unblock.wizard", "action_confirm", [wizard_id]))
        self.assertFalse(lot.is_rma_blocked)

    def test_advance_remedies_are_granted_by_managers_only(self):
        """Whoever may edit contacts (a salesperson with Contact Creation) may not set the flag that lets a
        customer's units be credited or replaced before the manager's confirmation."""
        partner_group = self.env.ref("base.group_partner_manager")
        editor = new_test_user(
            self.env,
            login="rpc_contacts_editor",
            groups="base.group_user,base.group_partner_manager",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
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

    def test_kpi_report_of_another_company_over_rpc(self):
        """A Returns Manager of another company asks for this company's KPI report or audit checklist: refused,
        nothing read."""
        other = self.env["res.company"].create({"name": "KPI Elsewhere"})
        outsider = new_test_user(
            self.env,
            login="rma_manager_elsewhere",
            groups="rma_recovery.group_rma_manager",
            company_id=other.id,
            company_ids=[Command.set(other.ids)],
        )
        values = {
            "company_id": self.company.id,
            "period": "month",
            "date_from": str(fields.Date.today().replace(day=1)),
        }
        # The wizard is only a request: printing or downloading is what reads the figures.
        report_ids = self._call(outsider, "rma.kpi.report", "create", [values])["result"]
        self.assertRefused(self._call(outsider, "rma.kpi.report", "action_download_xlsx", report_ids))
        self.assertRefused(self._call(outsider, "rma.kpi.report", "action_print", report_ids))
        # Nor through the routes that build the files as the user: the workbook's and Odoo's report route.
        response = self.url_open(f"/rma_recovery/kpi_report/{report_ids[0]}/xlsx")
        self.assertNotEqual(response.status_code, 200)
        ids = ",".join(map(str, report_ids))
        response = self.url_open(f"/report/html/rma_recovery.report_rma_kpi/{ids}")
        self.assertNotEqual(response.status_code, 200)
        self.assertNotIn("Return rate", response.text)
        # The audit checklist, computed as superuser too.
        checklist = {"company_id": self.company.id}
        checklist_ids = self._call(outsider, "rma.audit.checklist", "create", [checklist])["result"]
        self.assertRefused(self._call(outsider, "rma.audit.checklist", "action_compute", checklist_ids))
        self.assertRefused(self._call(outsider, "rma.audit.checklist", "action_print", checklist_ids))
        # The company's own manager is served.
        own_checklist = self._call(self.rma_manager, "rma.audit.checklist", "create", [checklist])["result"]
        self.assertIn("result", self._call(self.rma_manager, "rma.audit.checklist", "action_compute", own_checklist))
        own = self._call(self.rma_manager, "rma.kpi.report", "create", [values])
        answer = self._call(self.rma_manager, "rma.kpi.report", "action_download_xlsx", own["result"])
        self.assertEqual(answer["result"]["type"], "ir.actions.act_url", answer.get("error"))
        response = self.url_open(answer["result"]["url"])
        self.assertEqual(response.status_code, 200)
        self.assertIn("attachment", response.headers["Content-Disposition"])
        workbook = openpyxl.load_workbook(io.BytesIO(response.content))
        self.assertEqual(workbook.sheetnames, ["Summary", "Return Rate", "Turnaround", "Recovery", "Units"])
        response = self.url_open(f"/report/html/rma_recovery.report_rma_kpi/{own['result'][0]}")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Return rate", response.text)
