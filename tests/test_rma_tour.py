from odoo.tests import HttpCase, new_test_user, tagged

from .common import RmaTourMixin


@tagged("post_install", "-at_install")
class TestRmaTour(RmaTourMixin, HttpCase):
    def test_authorize_from_the_returns_menu(self):
        env = self.env
        admin = env.ref("base.user_admin")
        customer = env["res.partner"].create({"name": "Tour Customer", "is_company": True})
        env["rma.reason"].create({"name": "Tour reason", "code": "TOUR", "is_proof_required": False})
        laptop = env["product.product"].create(
            {"name": "Tour Laptop", "type": "consu", "is_storable": True, "tracking": "serial"}
        )
        lot = self._deliver(customer, laptop, ["TOUR-SN-0001"])

        self.start_tour("/odoo/rma", "rma_recovery_authorize_tour", login="admin")

        rma = env["rma.order"].search([("partner_id", "=", customer.id)])
        self.assertRecordValues(rma, [{"state": "authorized", "authorized_by_id": admin.id}])
        self.assertTrue(rma.name.startswith("RMA/"))
        self.assertEqual(rma.line_ids.lot_id, lot)

    def test_receive_by_scanning(self):
        env = self.env
        customer = env["res.partner"].create({"name": "Receiving Customer", "is_company": True})
        reason = env["rma.reason"].create({"name": "Tour receive", "code": "TOURR", "is_proof_required": False})
        laptop = env["product.product"].create(
            {"name": "Tour Receive Laptop", "type": "consu", "is_storable": True, "tracking": "serial"}
        )
        self._deliver(customer, laptop, ["TOUR-RCV-0001", "TOUR-RCV-0002"])
        self._deliver(env["res.partner"].create({"name": "Someone else"}), laptop, ["TOUR-RCV-OTHER"])
        rma = self._authorized_rma(customer, reason, laptop, ["TOUR-RCV-0001", "TOUR-RCV-0002"])
        # The tour scans a fixed code: give this RMA that number.
        rma.name = "RMA-TOUR-NUMBER"
        new_test_user(env, login="rma_dock", groups="rma_recovery.group_rma_user")

        self.start_tour("/odoo/rma-receive", "rma_recovery_receive_tour", login="rma_dock")

        first, second, substitute = rma.line_ids.sorted("id")
        self.assertRecordValues(
            first | second | substitute,
            [
                {"serial_number": "TOUR-RCV-0001", "state": "received", "is_substitution": False},
                {"serial_number": "TOUR-RCV-0002", "state": "received", "is_substitution": False},
                {"serial_number": "TOUR-RCV-OTHER", "state": "received", "is_substitution": True},
            ],
        )
        self.assertEqual(first.received_by_id.login, "rma_dock")
        self.assertEqual(first.location_id, rma.warehouse_id.rma_quarantine_location_id)
        self.assertEqual(len(first.custody_event_ids), 1)

    def test_dispose_from_the_rma(self):
        env = self.env
        customer = env["res.partner"].create({"name": "Disposing Customer", "is_company": True})
        reason = env["rma.reason"].create({"name": "Tour dispose", "code": "TOURD", "is_proof_required": False})
        laptop = env["product.product"].create(
            {"name": "Tour Dispose Laptop", "type": "consu", "is_storable": True, "tracking": "serial"}
        )
        self._deliver(customer, laptop, ["TOUR-DSP-0001", "TOUR-DSP-0002"])
        rma = self._authorized_rma(customer, reason, laptop, ["TOUR-DSP-0001", "TOUR-DSP-0002"])
        self.env["stock.picking"]._rma_receive(rma.line_ids, station="TOUR")
        rma.line_ids.action_start_inspection()
        grades = (env.ref("rma_recovery.rma_grade_a"), env.ref("rma_recovery.rma_grade_b"))
        for line, grade in zip(rma.line_ids.sorted("id"), grades, strict=True):
            line.inspection_id.write({"grade_id": grade.id, "functional_result": "pass"})
        rma.line_ids.inspection_id.action_done()

        self.start_tour(f"/odoo/rma/{rma.id}", "rma_recovery_dispose_tour", login="admin")

        rts, ref = rma.line_ids.sorted("id")
        warehouse = rma.warehouse_id
        self.assertRecordValues(
            rts | ref,
            [
                {"state": "closed", "location_id": warehouse.lot_stock_id.id, "net_realizable_value": 0.0},
                {
                    "state": "in_progress",
                    "location_id": warehouse.rma_refurbish_location_id.id,
                    "net_realizable_value": 300.0,
                },
            ],
        )
        self.assertEqual(rts.disposition_user_id.login, "admin")

    def test_custody_export_of_a_period(self):
        env = self.env
        customer = env["res.partner"].create({"name": "Exporting Customer", "is_company": True})
        reason = env["rma.reason"].create({"name": "Tour export", "code": "TOURX", "is_proof_required": False})
        laptop = env["product.product"].create(
            {"name": "Tour Export Laptop", "type": "consu", "is_storable": True, "tracking": "serial"}
        )
        self._deliver(customer, laptop, ["TOUR-EXP-0001", "TOUR-EXP-0002"])
        rma = self._authorized_rma(customer, reason, laptop, ["TOUR-EXP-0001", "TOUR-EXP-0002"])
        scan = env["rma.scan"]
        for code in (rma.name, "TOUR-EXP-0001", "TOUR-EXP-0002"):
            scan.receive_scan(code, rma_id=rma.id, station="DOCK-1")
        manager = new_test_user(env, login="rma_exporter", groups="rma_recovery.group_rma_manager")

        self.start_tour(
            "/odoo/action-rma_recovery.rma_custody_export_action",
            "rma_recovery_custody_export_tour",
            login="rma_exporter",
        )

        export = env["rma.custody.export"].search([("requested_by_id", "=", manager.id)])
        self.assertRecordValues(export, [{"state": "queued", "unit_total": 2, "unit_done": 0}])
        env["rma.custody.export"]._cron_run()
        self.assertRecordValues(export, [{"state": "done", "unit_done": 2}])
        self.assertEqual(export.event_count, len(rma.line_ids.custody_event_ids))
