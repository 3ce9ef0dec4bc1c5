import io
import itertools

import xlsxwriter
from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from ..models.rma_workflow_guard import ensure_manager_of
from .rma_kpi_unit import STAGES

# Names the detail rows' SQL cursors apart (a transaction may build several workbooks).
_detail_cursors = itertools.count(1)


class RmaKpiReport(models.TransientModel):
    """The KPI report of a period (weekly per warehouse for the depot floor, monthly company-wide for leadership),
    compared with the previous period: as a QWeb PDF (charts as inline SVG) and as an XLSX workbook.

    The periods: a week is a calendar week (Monday to Sunday), a month a calendar month, a custom range any run of
    days. The previous period is the calendar week or month before, and for a custom range the range of the same
    number of days just before it (see _previous_period)."""

    _name = "rma.kpi.report"
    _description = "Returns KPI Report"

    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    warehouse_id = fields.Many2one("stock.warehouse", check_company=True, help="Empty: the whole company.")
    period = fields.Selection(
        [("week", "Week"), ("month", "Month"), ("custom", "Custom Range")],
        required=True,
        default="month",
        help="Week: a calendar week, Monday to Sunday, compared with the week before.\n"
        "Month: a calendar month, compared with the month before.\n"
        "Custom Range: any dates, compared with the range of the same number of days just before.",
    )
    date_from = fields.Date(required=True, default=lambda self: fields.Date.context_today(self).replace(day=1))
    date_to = fields.Date(compute="_compute_date_to", store=True, readonly=False, required=True, precompute=True)

    @api.depends("period", "date_from")
    def _compute_date_to(self):
        for report in self:
            if not report.date_from:
                report.date_to = False
            elif report.period == "week":
                report.date_to = report.date_from + relativedelta(days=6)
            elif report.period == "month":
                report.date_to = report.date_from + relativedelta(day=31)
            else:
                report.date_to = report.date_to or report.date_from

    @api.onchange("period", "date_from")
    def _onchange_period(self):
        """The date picked names its week or month: the report starts on that Monday, or on the 1st."""
        if self.date_from and self.period == "week":
            self.date_from -= relativedelta(days=self.date_from.weekday())
        elif self.date_from and self.period == "month":
            self.date_from = self.date_from.replace(day=1)

    @api.constrains("period", "date_from", "date_to")
    def _check_period(self):
        for report in self:
            if report.date_to < report.date_from:
                raise ValidationError(self.env._("The report ends before it starts."))
            if report.period == "week" and (
                report.date_from.weekday() or report.date_to != report.date_from + relativedelta(days=6)
            ):
                raise ValidationError(
                    self.env._("A weekly report covers a calendar week, Monday to Sunday (or choose Custom Range).")
                )
            if report.period == "month" and (
                report.date_from.day != 1 or report.date_to != report.date_from + relativedelta(day=31)
            ):
                raise ValidationError(
                    self.env._("A monthly report covers a calendar month, 1st to last day (or choose Custom Range).")
                )

    def action_print(self):
        self._ensure_manager()
        return self.env.ref("rma_recovery.action_report_rma_kpi").report_action(self)

    def action_download_xlsx(self):
        self.ensure_one()
        self._ensure_manager()
        return {
            "type": "ir.actions.act_url",
            "url": f"/rma_recovery/kpi_report/{self.id}/xlsx",
            "target": "download",
        }

    # ------------------------------------------------------------------
    # Data
    # ------------------------------------------------------------------
    def _ensure_manager(self):
        ensure_manager_of(self, self.env._("Only Returns Managers print the KPI reports."))

    def _previous_period(self):
        """The period the report compares with: the previous calendar week or month, or for a custom range the
        range of the same number of days just before it."""
        self.ensure_one()
        if self.period == "week":
            start = self.date_from - relativedelta(weeks=1)
        elif self.period == "month":
            start = self.date_from - relativedelta(months=1)
        else:
            start = self.date_from - relativedelta(days=(self.date_to - self.date_from).days + 1)
        return start, self.date_from - relativedelta(days=1)

    def _previous_period_label(self):
        self.ensure_one()
        if self.period == "week":
            return self.env._("the previous calendar week")
        if self.period == "month":
            return self.env._("the previous calendar month")
        return self.env._("the %(days)s days just before", days=(self.date_to - self.date_from).days + 1)

    @api.model
    def _figures(self, summary):
        """The headline figures of a period, None where there is nothing to measure (nothing shipped, no unit
        disposed, no unit closed, no count in the return locations): printed "—", never as a 0 that reads as a
        measurement. ``has_data``: anything at all happened in the period."""
        total = summary["turnaround"]["hours_total"]
        counted = bool(summary["count_lines"])
        return {
            "return_rate": summary["return_rate"] if summary["units_shipped"] else None,
            "recovery_pct": summary["recovery_pct"] if summary["original_cost"] else None,
            "turnaround_median": total["median"] if total["count"] else None,
            "count_delta": summary["count_delta"] if counted else None,
            "count_value_delta": summary["count_value_delta"] if counted else None,
            "has_data": bool(summary["units_shipped"] or summary["units_returned"] or summary["unit_count"] or counted),
        }

    def _get_report_data(self):
        """Everything the PDF and the workbook show, computed once."""
        self.ensure_one()
        self._ensure_manager()
        # sudo: the manager's report, computed as superuser over their company (stock values included)
        report = self.sudo()
        kpi = report.env["rma.kpi.unit"]
        warehouse = self.warehouse_id or None
        current = kpi._kpi_summary(report.company_id, self.date_from, self.date_to, warehouse)
        previous_from, previous_to = self._previous_period()
        previous = kpi._kpi_summary(report.company_id, previous_from, previous_to, warehouse)
        start = fields.Datetime.to_datetime(self.date_from)
        end = fields.Datetime.to_datetime(self.date_to + relativedelta(days=1))
        domain = [("company_id", "=", self.company_id.id)]
        if self.warehouse_id:
            domain.append(("warehouse_id", "=", self.warehouse_id.id))
        rate_rows = report.env["rma.kpi.return.rate"]._read_group(
            [*domain, ("date", ">=", start), ("date", "<", end)],
            ["product_id"],
            ["qty_shipped:sum", "qty_returned:sum"],
        )
        by_code = kpi._read_group(
            [*domain, ("authorized_date", ">=", start), ("authorized_date", "<", end), ("disposition_id", "!=", False)],
            ["disposition_id"],
            ["quantity:sum", "original_cost:sum", "recovered_value:sum"],
        )
        # The units returned (as the return rate counts them) per reason, most first.
        reasons = report.env["rma.kpi.return.rate"]._read_group(
            [*domain, ("date", ">=", start), ("date", "<", end), ("reason_id", "!=", False)],
            ["reason_id"],
            ["qty_returned:sum"],
            order="qty_returned:sum desc",
            limit=5,
        )
        labels = {name: kpi._fields[name].get_description(self.env)["string"] for name, _start, _end in STAGES}
        return {
            "report": self,
            "currency": self.company_id.currency_id,
            "current": current,
            "previous": previous,
            "current_figures": self._figures(current),
            "previous_figures": self._figures(previous),
            "previous_from": previous_from,
            "previous_to": previous_to,
            "previous_label": self._previous_period_label(),
            "has_turnaround": any(
                summary["turnaround"][name]["count"] for summary in (current, previous) for name, *_dates in STAGES
            ),
            "return_rate": [
                {
                    "product": product.display_name,
                    "shipped": shipped or 0.0,
                    "returned": returned or 0.0,
                    "rate": 100.0 * returned / shipped if shipped else None,
                }
                for product, shipped, returned in rate_rows
            ],
            "stages": [(name, labels[name]) for name, _start, _end in STAGES],
            "by_code": [
                {
                    "code": code.display_name,
                    "units": quantity,
                    "original_cost": cost,
                    "recovered": recovered,
                    "pct": 100.0 * recovered / cost if cost else None,
                }
                for code, quantity, cost, recovered in by_code
            ],
            "reasons": [(reason.display_name, quantity) for reason, quantity in reasons],
        }

    @api.model
    def _bars(self, values, width=360, bar_height=14):
        """Horizontal bars for an inline SVG: [(label, value text, x width)]; no value (no unit through the stage)
        draws no bar and reads "—"."""
        top = max((value or 0.0 for _label, value in values), default=0.0) or 1.0
        return [
            (label, "—" if value is None else f"{value:.1f}", round(width * (value or 0.0) / top, 1))
            for label, value in values
        ]

    # ------------------------------------------------------------------
    # XLSX
    # ------------------------------------------------------------------
    def _build_xlsx(self, data):
        """The workbook: a sheet per KPI and the unit-level detail (constant memory: rows are written in order)."""
        output = io.BytesIO()
        workbook = xlsxwriter.Workbook(output, {"constant_memory": True, "in_memory": False})
        bold = workbook.add_format({"bold": True, "bg_color": "#E9ECEF", "border": 1})
        money = workbook.add_format({"num_format": "#,##0.00"})
        percent = workbook.add_format({"num_format": "0.00%"})
        hours = workbook.add_format({"num_format": "0.0"})
        date = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})

        def sheet(name, headers, widths):
            worksheet = workbook.add_worksheet(name)
            for column, (header, width) in enumerate(zip(headers, widths, strict=True)):
                worksheet.set_column(column, column, width)
                worksheet.write(0, column, header, bold)
            worksheet.freeze_panes(1, 0)
            return worksheet

        current, previous = data["current"], data["previous"]
        now, before = data["current_figures"], data["previous_figures"]

        def ratio(figures, key):
            return None if figures[key] is None else figures[key] / 100

        summary = sheet("Summary", [self.env._("KPI"), self.env._("This period"), self.env._("Previous")], [34, 16, 16])
        rows = [
            (self.env._("Units shipped"), current["units_shipped"], previous["units_shipped"], None),
            (self.env._("Units returned"), current["units_returned"], previous["units_returned"], None),
            (self.env._("Return rate"), ratio(now, "return_rate"), ratio(before, "return_rate"), percent),
            (self.env._("Original cost"), current["original_cost"], previous["original_cost"], money),
            (self.env._("Recovered value"), current["recovered_value"], previous["recovered_value"], money),
            (self.env._("Recovery value"), ratio(now, "recovery_pct"), ratio(before, "recovery_pct"), percent),
            (self.env._("Count delta, return locations"), now["count_delta"], before["count_delta"], None),
            (
                self.env._("Count delta value, return locations"),
                now["count_value_delta"],
                before["count_value_delta"],
                money,
            ),
            (self.env._("Stock value minus ledger"), current["value_ledger_difference"], None, money),
        ]
        # Nothing to measure (nothing shipped, nothing disposed, no count): an empty cell, not a 0.
        for index, (label, value, previous_value, style) in enumerate(rows, start=1):
            summary.write(index, 0, label)
            if value is not None:
                summary.write(index, 1, value, style)
            if previous_value is not None:
                summary.write(index, 2, previous_value, style)

        rate = sheet(
            "Return Rate",
            [self.env._("Product"), self.env._("Shipped"), self.env._("Returned"), self.env._("Return rate")],
            [40, 12, 12, 14],
        )
        for index, row in enumerate(data["return_rate"], start=1):
            rate.write_row(index, 0, [row["product"], row["shipped"], row["returned"]])
            if row["rate"] is not None:
                rate.write(index, 3, row["rate"] / 100, percent)
        rate.autofilter(0, 0, max(len(data["return_rate"]), 1), 3)

        turnaround = sheet(
            "Turnaround",
            [self.env._("Stage"), self.env._("Units"), self.env._("Average (h)"), self.env._("Median (h)"), "P90 (h)"],
            [24, 10, 14, 14, 12],
        )
        for index, (name, label) in enumerate(data["stages"], start=1):
            stats = current["turnaround"][name]
            turnaround.write(index, 0, label)
            turnaround.write(index, 1, stats["count"])
            for column, key in ((2, "average"), (3, "median"), (4, "p90")):
                if stats[key] is not None:
                    turnaround.write(index, column, stats[key], hours)

        recovery = sheet(
            "Recovery",
            [self.env._("Disposition"), self.env._("Units"), self.env._("Original cost"), self.env._("Recovered"), "%"],
            [28, 10, 16, 16, 10],
        )
        for index, row in enumerate(data["by_code"], start=1):
            recovery.write_row(index, 0, [row["code"], row["units"]])
            recovery.write(index, 2, row["original_cost"], money)
            recovery.write(index, 3, row["recovered"], money)
            if row["pct"] is not None:
                recovery.write(index, 4, row["pct"] / 100, percent)

        headers = [
            self.env._("RMA"),
            self.env._("Serial / IMEI"),
            self.env._("Product"),
            self.env._("Customer"),
            self.env._("Warehouse"),
            self.env._("Disposition"),
            self.env._("Authorized"),
            self.env._("Closed"),
            *[label for _name, label in data["stages"]],
            self.env._("Original cost"),
            self.env._("Recovered"),
        ]
        detail = sheet(self.env._("Units"), headers, [18, 20, 30, 24, 14, 14, 17, 17, 10, 10, 10, 10, 10, 14, 14])
        # 15 cells a unit, 100,000 units a period: each cell goes straight to its typed writer (write() would first
        # test every text for a formula or a URL: a customer's or product's name is written as the text it is, never
        # as a formula).
        write_string, write_number, write_datetime = detail.write_string, detail.write_number, detail.write_datetime
        row_count = 0
        for rows in self._detail_rows():
            for name, serial, product, partner, house, code, authorized, closed, stage_hours, cost, recovered in rows:
                row_count += 1
                for column, text in enumerate((name, serial, product, partner, house, code)):
                    if text:  # an empty text leaves the cell empty, as write() does
                        write_string(row_count, column, text)
                if authorized:
                    write_datetime(row_count, 6, authorized, date)
                if closed:
                    write_datetime(row_count, 7, closed, date)
                for column, value in enumerate(stage_hours, start=8):
                    if value is not None:  # a stage not reached yet has no duration
                        write_number(row_count, column, value, hours)
                write_number(row_count, 13, cost, money)
                write_number(row_count, 14, recovered, money)
        detail.autofilter(0, 0, max(row_count, 1), len(headers) - 1)
        workbook.close()
        return output.getvalue()

    def _detail_rows(self, chunk=10000):
        """The unit-level rows of the period, by id, in chunks (not as records: a period can hold 100,000 units, and
        the workbook is written row by row). One query, read through a cursor of the transaction: the view's rows
        are joined once, not once a chunk."""
        self.ensure_one()
        kpi = self.env["rma.kpi.unit"]  # its query only: the rows are read in SQL
        self.env.flush_all()
        start = fields.Datetime.to_datetime(self.date_from)
        end = fields.Datetime.to_datetime(self.date_to + relativedelta(days=1))
        warehouse = SQL("AND kpi.warehouse_id = %s", self.warehouse_id.id) if self.warehouse_id else SQL()
        lang = self.env.lang or "en_US"
        cursor = SQL.identifier(f"rma_kpi_detail_{self.id}_{next(_detail_cursors)}")
        # The whole result is read: planned for all its rows (hash joins and one sort), not for the first ones.
        self.env.cr.execute(
            SQL("SELECT current_setting('cursor_tuple_fraction'), set_config('cursor_tuple_fraction', '1', TRUE)")
        )
        tuple_fraction = self.env.cr.fetchone()[0]
        self.env.cr.execute(
            SQL(
                """DECLARE %(cursor)s NO SCROLL CURSOR FOR
                   SELECT rma.name, line.serial_number,
                          COALESCE(template.name->>%(lang)s, template.name->>'en_US'), partner.name,
                          warehouse.name, code.code, kpi.authorized_date, kpi.closed_date,
                          ARRAY[%(stages)s]::float8[], kpi.original_cost::float8, kpi.recovered_value::float8
                     FROM (%(query)s) kpi
                     JOIN rma_order rma ON rma.id = kpi.rma_id
                     JOIN rma_line line ON line.id = kpi.unit_id
                     JOIN product_product product ON product.id = kpi.product_id
                     JOIN product_template template ON template.id = product.product_tmpl_id
                     LEFT JOIN res_partner partner ON partner.id = kpi.partner_id
                     LEFT JOIN stock_warehouse warehouse ON warehouse.id = kpi.warehouse_id
                     LEFT JOIN rma_disposition code ON code.id = kpi.disposition_id
                    WHERE kpi.company_id = %(company)s AND kpi.authorized_date >= %(start)s
                      AND kpi.authorized_date < %(end)s %(warehouse)s
                    ORDER BY kpi.id""",
                cursor=cursor,
                lang=lang,
                stages=SQL(", ").join(SQL.identifier("kpi", name) for name, _start, _end in STAGES),
                query=kpi._table_query,
                company=self.company_id.id,
                start=start,
                end=end,
                warehouse=warehouse,
            )
        )
        self.env.cr.execute(SQL("SELECT set_config('cursor_tuple_fraction', %s, TRUE)", tuple_fraction))
        try:
            while True:
                self.env.cr.execute(SQL("FETCH FORWARD %s FROM %s", chunk, cursor))
                rows = self.env.cr.fetchall()
                if not rows:
                    break
                yield [
                    (name or "", serial or "", product or "", partner or "", house or "", code or "", *rest)
                    for name, serial, product, partner, house, code, *rest in rows
                ]
        except GeneratorExit:  # the caller stopped reading: the cursor is closed now, not at the transaction's end
            self.env.cr.execute(SQL("CLOSE %s", cursor))
            raise
        self.env.cr.execute(SQL("CLOSE %s", cursor))

    def _xlsx_file(self):
        """The workbook's file name and content."""
        name = self.env._(
            "Returns KPIs %(start)s to %(end)s.xlsx", start=self.date_from.isoformat(), end=self.date_to.isoformat()
        )
        return name, self._build_xlsx(self._get_report_data())
