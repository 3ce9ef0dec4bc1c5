import io
from datetime import datetime, timedelta

import openpyxl
from dateutil.relativedelta import relativedelta

from odoo import Command, fields
from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import SQL, format_date

from .common_disposition import RmaDispositionCommon
from .common_rpc import RmaRpcCommon


@tagged("post_install", "-at_install")
class TestRmaKpi(RmaDispositionCommon):
    """The KPIs on a constructed data set whose expected figures are worked out here by hand."""

    def _set_stage_dates(self, line, **dates):
        self.env.flush_all()
        for name, value in dates.items():
            self.env.cr.execute(SQL("UPDATE rma_line SET %s = %s WHERE id = %s", SQL.identifier(name), value, line.id))
        self.env.invalidate_all()

    def test_kpis(self):
        product = self._new_product("fifo")
        units = self._inspected_units(product, ["KPI-1", "KPI-2", "KPI-3", "KPI-4"], price=500.0)
        self._purchase(product, ["KPI-5", "KPI-6", "KPI-7", "KPI-8"], 500.0)
        self._deliver(self.other_customer, product, ["KPI-5", "KPI-6", "KPI-7", "KPI-8"], from_stock=True)
        rts, ref, ph, sd = units
        self._dispose(rts, self.code["RTS"])
        self._dispose(ref, self.code["REF"], net_realizable_value=350.0, work_cost=40.0)
        self._dispose(ph, self.code["PH"], recovery_value=35.0)
        self._dispose(sd, self.code["SD"])

        # Stage times: authorized at t0, received 2, 4, 6, 8 hours later, then one hour per stage.
        t0 = datetime.combine(fields.Date.today(), datetime.min.time()) + timedelta(hours=1)
        for index, line in enumerate(units):
            received = t0 + timedelta(hours=2 * (index + 1))
            self._set_stage_dates(
                line,
                authorized_date=t0,
                received_date=received,
                inspection_done_date=received + timedelta(hours=1),
                disposition_date=received + timedelta(hours=2),
                closed_date=received + timedelta(hours=3),
            )
        # A count in quarantine after the returns: three more cables than the system knew.
        cable = self._create_product("KPI cable")
        quant = (
            self.env["stock.quant"]
            .with_context(inventory_mode=True)
            .create({"product_id": cable.id, "location_id": self.quarantine.id, "inventory_quantity": 3.0})
        )
        quant.action_apply_inventory()
        # Two more in a bin under graded stock (a return location too), and a count in ordinary stock (not one).
        cable.standard_price = 10.0
        bin_location = self.env["stock.location"].create(
            {"name": "Bin G1", "location_id": self.warehouse.rma_graded_location_id.id}
        )
        for location, counted in ((bin_location, 2.0), (self.warehouse.lot_stock_id, 7.0)):
            self.env["stock.quant"].with_context(inventory_mode=True).create(
                {"product_id": cable.id, "location_id": location.id, "inventory_quantity": counted}
            ).action_apply_inventory()

        today = fields.Date.today()
        summary = self.env["rma.kpi.unit"]._kpi_summary(self.company, today, today)
        # Return rate: 4 units authorized of 8 shipped.
        self.assertEqual((summary["units_shipped"], summary["units_returned"]), (8.0, 4.0))
        self.assertAlmostEqual(summary["return_rate"], 50.0)
        # Recovery: RTS at book value 500, REF 350 - 40, PH 35, SD 0, of 4 x 500 received.
        self.assertAlmostEqual(summary["original_cost"], 2000.0)
        self.assertAlmostEqual(summary["recovered_value"], 500.0 + 310.0 + 35.0)
        self.assertAlmostEqual(summary["recovery_pct"], 42.25)
        # Turnaround to receive: 2, 4, 6, 8 hours: average 5, median 5, 90th percentile 6 + 0.7 x 2.
        receive = summary["turnaround"]["hours_to_receive"]
        self.assertEqual(receive["count"], 4)
        self.assertAlmostEqual(receive["average"], 5.0)
        self.assertAlmostEqual(receive["median"], 5.0)
        self.assertAlmostEqual(receive["p90"], 7.4)
        self.assertAlmostEqual(summary["turnaround"]["hours_to_inspect"]["average"], 1.0)
        self.assertAlmostEqual(summary["turnaround"]["hours_total"]["median"], 8.0)
        self.assertAlmostEqual(summary["count_delta"], 5.0)
        self.assertAlmostEqual(summary["count_value_delta"], 20.0)
        by_location = dict(
            self.env["rma.kpi.stock.accuracy"]._read_group(
                [("company_id", "=", self.company.id)], ["location_id"], ["quantity_delta:sum"]
            )
        )
        self.assertEqual(by_location, {self.quarantine: 3.0, bin_location: 2.0})

        # The pivot's figures per code (what Inventory > Reporting > Returns shows).
        by_code = dict(
            self.env["rma.kpi.unit"]._read_group(
                [("company_id", "=", self.company.id)], ["disposition_id"], ["recovered_value:sum"]
            )
        )
        self.assertEqual(
            {code.code: value for code, value in by_code.items()},
            {"RTS": 500.0, "REF": 310.0, "PH": 35.0, "SD": 0.0},
        )
        by_customer = dict(
            self.env["rma.kpi.return.rate"]._read_group(
                [("company_id", "=", self.company.id)], ["partner_id"], ["qty_shipped:sum"]
            )
        )
        self.assertEqual(by_customer, {self.customer: 4.0, self.other_customer: 4.0})
        # A period without activity.
        empty = self.env["rma.kpi.unit"]._kpi_summary(
            self.company, today - timedelta(days=60), today - timedelta(days=30)
        )
        self.assertEqual((empty["units_shipped"], empty["return_rate"], empty["recovery_pct"]), (0.0, 0.0, 0.0))

    def test_kpis_by_period_warehouse_and_company(self):
        """The same figures split by period and warehouse, and each company's own, in its own currency."""
        product = self._new_product("fifo")
        depot_two = self.env["stock.warehouse"].create({"name": "Depot Two", "code": "DP2"})
        self._purchase(product, ["PER-1", "PER-2", "PER-3", "PER-4"], 300.0)
        self._deliver(self.customer, product, ["PER-1", "PER-2", "PER-3", "PER-4"], from_stock=True)
        main = self._create_rma([(product, "PER-1")])
        second_depot = self._create_rma([(product, "PER-2")], warehouse_id=depot_two.id)
        last_month = self._create_rma([(product, "PER-3")])
        (main | second_depot | last_month).action_authorize()
        self.assertEqual(second_depot.warehouse_id, depot_two)
        self._set_stage_dates(last_month.line_ids, authorized_date=fields.Datetime.now() - relativedelta(months=1))

        kpi = self.env["rma.kpi.unit"]
        today = fields.Date.today()
        month_start = today.replace(day=1)
        previous_start = month_start - relativedelta(months=1)
        previous_end = month_start - relativedelta(days=1)

        def rate(summary):
            return summary["units_returned"], summary["units_shipped"], summary["return_rate"]

        # This month, the company: 2 units returned of 4 shipped (all from the main warehouse).
        self.assertEqual(rate(kpi._kpi_summary(self.company, month_start, today)), (2.0, 4.0, 50.0))
        self.assertEqual(rate(kpi._kpi_summary(self.company, month_start, today, self.warehouse)), (1.0, 4.0, 25.0))
        self.assertEqual(rate(kpi._kpi_summary(self.company, month_start, today, depot_two)), (1.0, 0.0, 0.0))
        # Last month: the unit authorized then, nothing shipped.
        self.assertEqual(rate(kpi._kpi_summary(self.company, previous_start, previous_end)), (1.0, 0.0, 0.0))

        # Another company, in another currency: its figures are its own, and its manager sees only them.
        euro_company = self.env["res.company"].create(
            {"name": "KPI Europe", "currency_id": self.env.ref("base.EUR").id}
        )
        euro_manager = self._new_user("kpi_manager_eur", "rma_recovery.group_rma_manager", company=euro_company)
        euro_reason = (
            self.env["rma.reason"]
            .with_company(euro_company)
            .create({"name": "KPI EU reason", "code": "KPIEU", "is_proof_required": False})
        )
        euro_rma = (
            self.env["rma.order"]
            .with_company(euro_company)
            .create(
                {
                    "partner_id": self.customer.id,
                    "reason_id": euro_reason.id,
                    "line_ids": [Command.create({"product_id": product.id, "serial_number": "EU-1"})],
                }
            )
        )
        # Authorized (set here: the serial was never shipped by that company, which the authorization flags).
        self.env.flush_all()
        self.env.cr.execute(
            SQL("UPDATE rma_line SET state = 'authorized', authorized_date = now() WHERE id = %s", euro_rma.line_ids.id)
        )
        self.env.invalidate_all()
        self.assertEqual(rate(kpi._kpi_summary(euro_company, month_start, today)), (1.0, 0.0, 0.0))
        self.assertEqual(rate(kpi._kpi_summary(self.company, month_start, today)), (2.0, 4.0, 50.0))
        euro_rows = kpi.with_user(euro_manager).search([])
        self.assertEqual(euro_rows.unit_id, euro_rma.line_ids)
        self.assertEqual(euro_rows.currency_id, self.env.ref("base.EUR"))
        returned_by_company = dict(
            self.env["rma.kpi.return.rate"]
            .with_user(self.rma_manager)
            ._read_group([], ["company_id"], ["qty_returned:sum"])
        )
        self.assertEqual(returned_by_company, {self.company: 3.0})

    def test_kpis_are_for_managers(self):
        with self.assertRaises(AccessError):
            self.env["rma.kpi.unit"].with_user(self.rma_user).search([])
        with self.assertRaises(AccessError):
            self.env["rma.kpi.return.rate"].with_user(self.rma_inspector).search([])
        self.env["rma.kpi.unit"].with_user(self.rma_manager).search([])

    def test_kpi_report_pdf_and_xlsx(self):
        import io

        import openpyxl

        from odoo.tools.pdf import PdfReader

        product = self._new_product("fifo")
        units = self._inspected_units(product, ["KPR-1", "KPR-2"], price=500.0)
        self._dispose(units[0], self.code["RTS"])
        self._dispose(units[1], self.code["PH"], recovery_value=35.0)
        report = (
            self.env["rma.kpi.report"]
            .with_user(self.rma_manager)
            .create({"company_id": self.company.id, "period": "month", "date_from": fields.Date.today().replace(day=1)})
        )
        self.assertEqual(report.date_to, fields.Date.today().replace(day=1) + relativedelta(months=1, days=-1))
        with self.assertRaises(AccessError):
            report.with_user(self.rma_user).action_download_xlsx()

        name, content = report._xlsx_file()
        self.assertEqual(name, f"Returns KPIs {report.date_from} to {report.date_to}.xlsx")
        workbook = openpyxl.load_workbook(io.BytesIO(content))
        self.assertEqual(workbook.sheetnames, ["Summary", "Return Rate", "Turnaround", "Recovery", "Units"])
        summary = {row[0].value: row[1].value for row in workbook["Summary"].iter_rows(min_row=2)}
        self.assertEqual(summary["Units returned"], 2)
        self.assertEqual(summary["Units shipped"], 2)
        self.assertAlmostEqual(summary["Return rate"], 1.0)
        self.assertAlmostEqual(summary["Recovery value"], (500.0 + 35.0) / 1000.0)
        recovery = {row[0].value: row[3].value for row in workbook["Recovery"].iter_rows(min_row=2)}
        self.assertEqual(recovery, {self.code["RTS"].display_name: 500.0, self.code["PH"].display_name: 35.0})
        # Top reasons: the units returned (as the return rate counts them) per reason.
        self.assertEqual(report._get_report_data()["reasons"], [(self.reason.display_name, 2.0)])
        units_sheet = workbook["Units"]
        self.assertEqual(units_sheet.freeze_panes, "A2")
        self.assertTrue(units_sheet.auto_filter.ref)
        serials = sorted(row[1].value for row in units_sheet.iter_rows(min_row=2))
        self.assertEqual(serials, ["KPR-1", "KPR-2"])

        pdf_report = self.env.ref("rma_recovery.action_report_rma_kpi")
        html = pdf_report.with_user(self.rma_manager)._render_qweb_html(pdf_report.report_name, report.ids)[0].decode()
        self.assertIn("<svg", html)
        self.assertIn("100.00 %", html)
        pdf, _kind = pdf_report.with_context(force_report_rendering=True)._render_qweb_pdf(
            pdf_report.report_name, report.ids
        )
        text = " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())
        self.assertIn("Returns KPIs", text)
        self.assertIn("53.50 %", text, "recovery value: 535 of 1,000")
        self.assertIn(product.display_name, text)
        self.assertIn(self.reason.display_name, text)

    def test_kpi_xlsx_units_sheet(self):
        """The Units sheet holds one row per unit, by id, read in chunks through one SQL cursor; a name that looks
        like a formula is written as the text it is; no disposition leaves its cell empty."""
        import io

        import openpyxl

        product = self._new_product("fifo")
        product.name = "=1+2 Laptop"
        units = self._inspected_units(product, ["KPX-1", "KPX-2", "KPX-3"], price=500.0)
        self._dispose(units[0], self.code["RTS"])
        report = (
            self.env["rma.kpi.report"]
            .with_user(self.rma_manager)
            .create({"company_id": self.company.id, "period": "month", "date_from": fields.Date.today().replace(day=1)})
        )
        chunks = list(report._detail_rows(chunk=2))
        self.assertEqual([len(rows) for rows in chunks], [2, 1])
        self.assertEqual([row[1] for rows in chunks for row in rows], ["KPX-1", "KPX-2", "KPX-3"])
        next(report._detail_rows(chunk=1))  # a reader that stops early: its cursor is closed
        for _build in range(2):  # twice in one transaction: each build its own cursor
            workbook = openpyxl.load_workbook(io.BytesIO(report._build_xlsx(report._get_report_data())))
        rows = list(workbook["Units"].iter_rows(min_row=2))
        self.assertEqual([row[1].value for row in rows], ["KPX-1", "KPX-2", "KPX-3"])
        self.assertEqual({(row[2].value, row[2].data_type) for row in rows}, {("=1+2 Laptop", "s")})
        self.assertEqual([row[5].value for row in rows], [self.code["RTS"].code, None, None])
        self.assertEqual(rows[0][13].value, 500.0)

    def test_scheduled_report_mails_each_recipient_once_per_period(self):
        product = self._new_product("fifo")
        self._inspected_units(product, ["KPS-1"], price=500.0)
        recipients = self.env["res.partner"].create(
            [{"name": "Depot lead", "email": "lead@example.com"}, {"name": "COO", "email": "coo@example.com"}]
        )
        schedule = (
            self.env["rma.kpi.schedule"]
            .with_user(self.rma_manager)
            .create(
                {
                    "name": "Depot, weekly",
                    "company_id": self.company.id,
                    "warehouse_id": self.warehouse.id,
                    "period": "week",
                    "partner_ids": [(6, 0, recipients.ids)],
                }
            )
        )
        with self.assertRaises(AccessError):
            self.env["rma.kpi.schedule"].with_user(self.rma_user).create(
                {"name": "x", "company_id": self.company.id, "partner_ids": [(6, 0, recipients.ids)]}
            )
        self.env["rma.kpi.schedule"]._cron_send("week")
        self.env["rma.kpi.schedule"]._cron_send("week")  # the same period is not sent twice
        sent = schedule.sent_report_ids
        self.assertEqual(len(sent), 1)
        start, end = schedule._last_period()
        self.assertEqual((sent.date_from, sent.date_to), (start, end))
        self.assertEqual(start.weekday(), 0)
        self.assertEqual((end - start).days, 6)
        self.assertEqual(
            sent.display_name, f"Depot, weekly, {format_date(self.env, start)} to {format_date(self.env, end)}"
        )
        self.assertEqual(len(sent.attachment_ids), 2)
        self.assertTrue(any(name.endswith(".xlsx") for name in sent.attachment_ids.mapped("name")))
        self.assertIn(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", sent.attachment_ids.mapped("mimetype")
        )
        mails = self.env["mail.mail"].search([("model", "=", sent._name), ("res_id", "=", sent.id)])
        self.assertEqual(len(mails), 2, "one mail per recipient")
        self.assertEqual(mails.recipient_ids, recipients)
        for mail in mails:
            self.assertEqual(mail.attachment_ids, sent.attachment_ids)
            self.assertEqual(mail.state, "outgoing", "in Odoo's mail queue")

    def test_failure_code_pareto(self):
        keyboard = self.env.ref("rma_recovery.rma_failure_keyboard")
        liquid = self.env.ref("rma_recovery.rma_failure_liquid")
        product = self._new_product("fifo")
        self._purchase(product, ["PAR-1", "PAR-2"], 500.0)
        self._deliver(self.customer, product, ["PAR-1", "PAR-2"], from_stock=True)
        rma = self._create_rma([(product, "PAR-1"), (product, "PAR-2")])
        rma.action_authorize()
        self.env["stock.picking"]._rma_receive(rma.line_ids, station="DOCK-1")
        inspector_lines = rma.line_ids.with_user(self.rma_inspector)
        inspector_lines.action_start_inspection()
        first, second = inspector_lines.inspection_id
        first.write(
            {
                "grade_id": self.grade_a.id,
                "functional_result": "fail",
                "failure_code_ids": [(6, 0, (keyboard | liquid).ids)],
            }
        )
        second.write(
            {"grade_id": self.grade_a.id, "functional_result": "fail", "failure_code_ids": [(6, 0, keyboard.ids)]}
        )
        self.assertFalse(
            self.env["rma.kpi.failure"].search([("company_id", "=", self.company.id)]), "not before it is finished"
        )
        inspector_lines.inspection_id.action_done()
        pareto = self.env["rma.kpi.failure"]._read_group(
            [("company_id", "=", self.company.id), ("product_id", "=", product.id)],
            ["failure_code_id"],
            ["unit_count:sum"],
            order="unit_count:sum desc",
        )
        self.assertEqual(pareto, [(keyboard, 2), (liquid, 1)])


@tagged("post_install", "-at_install")
class TestRmaKpiRpc(RmaRpcCommon):
    """The KPI report and the audit checklist over JSON-RPC and HTTP: for the managers of the company only."""

    def test_kpi_report_of_another_company_over_rpc(self):
        """A Returns Manager of another company asks for this company's KPI report or audit checklist: refused,
        nothing read."""
        other = self.env["res.company"].create({"name": "KPI Elsewhere"})
        outsider = self._new_user("rma_manager_elsewhere", "rma_recovery.group_rma_manager", company=other)
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
