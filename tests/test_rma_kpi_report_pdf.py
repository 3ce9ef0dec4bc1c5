import io
import re
from datetime import date

from dateutil.relativedelta import relativedelta

from odoo import fields
from odoo.exceptions import ValidationError
from odoo.tests import Form, tagged
from odoo.tools import format_date
from odoo.tools.pdf import PdfReader

from .common_disposition import RmaDispositionCommon

NO_DATA = "No data for this period"


@tagged("post_install", "-at_install")
class TestRmaKpiReportPdf(RmaDispositionCommon):
    """The KPI report reads well: "—" and "No data for this period" where there is nothing to measure, one date
    format (the user's language), the previous period defined and printed; and the Return Rate report's rate."""

    def _report(self, date_from, period="month", **values):
        return (
            self.env["rma.kpi.report"]
            .with_user(self.rma_manager)
            .create({"company_id": self.company.id, "period": period, "date_from": date_from, **values})
        )

    def _html(self, report, lang=None):
        action = self.env.ref("rma_recovery.action_report_rma_kpi").with_user(self.rma_manager)
        if lang:
            action = action.with_context(lang=lang)
        return action._render_qweb_html(action.report_name, report.ids)[0].decode()

    def _pdf_text(self, report):
        action = self.env.ref("rma_recovery.action_report_rma_kpi").with_user(self.rma_manager)
        pdf, _kind = action.with_context(force_report_rendering=True)._render_qweb_pdf(action.report_name, report.ids)
        return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())

    def test_previous_period_is_the_previous_calendar_period(self):
        month = self._report(date(2026, 3, 1))
        self.assertEqual(month.date_to, date(2026, 3, 31))
        self.assertEqual(month._previous_period(), (date(2026, 2, 1), date(2026, 2, 28)))
        leap = self._report(date(2024, 3, 1))
        self.assertEqual(leap._previous_period(), (date(2024, 2, 1), date(2024, 2, 29)))
        week = self._report(date(2026, 3, 2), period="week")  # a Monday
        self.assertEqual(week.date_to, date(2026, 3, 8))
        self.assertEqual(week._previous_period(), (date(2026, 2, 23), date(2026, 3, 1)))
        custom = self._report(date(2026, 3, 10), period="custom", date_to=date(2026, 3, 19))
        self.assertEqual(custom._previous_period(), (date(2026, 2, 28), date(2026, 3, 9)), "the 10 days before")
        # In the form, the date picked names its week or month.
        form = Form(self.env["rma.kpi.report"].with_user(self.rma_manager))
        form.period = "week"
        form.date_from = date(2026, 3, 4)
        self.assertEqual((form.date_from, form.date_to), (date(2026, 3, 2), date(2026, 3, 8)))
        form.period = "month"
        self.assertEqual((form.date_from, form.date_to), (date(2026, 3, 1), date(2026, 3, 31)))
        # A week or a month is a calendar one: another start is refused (a custom range is what the user means).
        with self.assertRaisesRegex(ValidationError, "Monday to Sunday"):
            self._report(date(2026, 3, 4), period="week")
        with self.assertRaisesRegex(ValidationError, "calendar month"):
            self._report(date(2026, 3, 15))

    def test_empty_month_says_no_data(self):
        report = self._report(date(2026, 3, 1))
        text = self._pdf_text(report)
        self.assertIn(NO_DATA, text)
        self.assertIn("compared with", text)
        # Each headline figure of both periods prints "—", not a 0 that reads as a measurement.
        for label in (
            r"Return rate \(returned / shipped\)",
            "Recovery value",
            r"Turnaround end to end, median \(hours\)",
            r"Stock-accuracy delta, return locations \(units counted minus system\)",
            "Value of the count delta, return locations",
        ):
            self.assertRegex(text, f"{label} — —")
        self.assertNotIn("0.00 %", text)
        self.assertIsNone(re.search(r"(?<![\d.,])0\.0(?![\d])", text), "no turnaround printed as 0.0")
        # Every section says so: turnaround, recovery by disposition, return rate by product, reasons.
        self.assertEqual(text.count(NO_DATA), 5)

    def test_dates_in_the_user_language_and_previous_period_printed(self):
        self.env["res.lang"]._activate_lang("de_DE")
        report = self._report(date(2026, 3, 1))
        html = self._html(report, lang="de_DE")
        # de_DE writes dates %d.%m.%Y: the period and the previous calendar month, named as such.
        self.assertIn("01.03.2026</span>\N{EN DASH}<span", html)
        self.assertRegex(
            html, r"compared with\s*<span[^>]*>01\.02\.2026</span>\N{EN DASH}<span[^>]*>28\.02\.2026</span>"
        )
        self.assertIn("the previous calendar month", html)
        page = html[html.index('class="page"') :]
        self.assertFalse(re.findall(r"\d{4}-\d{2}-\d{2}", page), "no ISO date beside the language's")
        self.assertFalse(re.findall(r"\d{2}/\d{2}/\d{4}", page), "no other date format")
        # In English (the manager's language), the same dates in en_US's format.
        html = self._html(report)
        lang = self.env["res.lang"]._get_data(code=self.rma_manager.lang or "en_US")
        for day in (date(2026, 2, 1), date(2026, 2, 28), date(2026, 3, 1), date(2026, 3, 31)):
            self.assertIn(day.strftime(lang.date_format), html)
            self.assertEqual(format_date(self.env(context={"lang": lang.code}), day), day.strftime(lang.date_format))

    def test_month_with_data(self):
        product = self._new_product("fifo")
        units = self._inspected_units(product, ["KPD-1", "KPD-2"], price=400.0)
        self._dispose(units[0], self.code["RTS"])
        self._dispose(units[1], self.code["SD"])
        month = fields.Date.today().replace(day=1)
        report = self._report(month)
        data = report._get_report_data()
        text = self._pdf_text(report)
        previous_from, previous_to = data["previous_from"], data["previous_to"]
        self.assertEqual((previous_from, previous_to), (month - relativedelta(months=1), month - relativedelta(days=1)))
        printed = f"{format_date(self.env, previous_from)} ?\N{EN DASH} ?{format_date(self.env, previous_to)}"
        self.assertRegex(text, f"compared with {printed} \\(the previous calendar month\\)")
        # This month is measured, last month is not: figures here, "—" there.
        recovery = data["current"]["recovered_value"] / data["current"]["original_cost"] * 100
        self.assertIn(f"Recovery value {recovery:.2f} % —", text)
        self.assertIn(product.display_name, text)
        self.assertNotIn(NO_DATA + ".", text.split("Turnaround per stage")[0], "the period has data")

    def test_return_rate_measure(self):
        """The rate of each group, totals included, is its units returned over its units shipped, not a sum or an
        average of row rates."""
        often, seldom = self._new_product("fifo"), self._new_product("fifo")
        self._purchase(often, ["RR-A1", "RR-A2"], 100.0)
        self._deliver(self.customer, often, ["RR-A1", "RR-A2"], from_stock=True)
        self._purchase(seldom, ["RR-B1", "RR-B2", "RR-B3", "RR-B4"], 100.0)
        self._deliver(self.customer, seldom, ["RR-B1", "RR-B2", "RR-B3", "RR-B4"], from_stock=True)
        self._create_rma([(often, "RR-A1"), (often, "RR-A2"), (seldom, "RR-B1")]).action_authorize()

        rates = self.env["rma.kpi.return.rate"].with_user(self.rma_manager)
        domain = [("company_id", "=", self.company.id)]
        groups = rates._read_group(domain, ["product_id"], ["qty_shipped:sum", "qty_returned:sum", "return_rate:avg"])
        self.assertEqual({product.id for product, *_figures in groups}, set((often | seldom).ids))
        for _product, shipped, returned, rate in groups:
            self.assertTrue(shipped)
            self.assertAlmostEqual(rate, 100.0 * returned / shipped)
        [(shipped, returned, total)] = rates._read_group(
            domain, [], ["qty_shipped:sum", "qty_returned:sum", "return_rate:avg"]
        )
        self.assertAlmostEqual(total, 100.0 * returned / shipped)
        per_product = [rate for *_figures, rate in groups]
        self.assertNotAlmostEqual(total, sum(per_product) / len(per_product), msg="not an average of the rates")
        # What the pivot and the graph ask (the web client's grouping sets), the total row included.
        pivot = rates.formatted_read_grouping_sets(domain, [[], ["product_id"]], ["return_rate:avg"])
        self.assertAlmostEqual(pivot[0][0]["return_rate:avg"], total)
        self.assertEqual(
            {group["product_id"][0]: group["return_rate:avg"] for group in pivot[1]},
            {product.id: rate for product, *_figures, rate in groups},
        )
        # A group with nothing shipped has no rate (an empty cell), not 0 or a division error.
        [(no_rate,)] = rates._read_group([*domain, ("qty_shipped", "=", 0)], [], ["return_rate:avg"])
        self.assertIs(no_rate, False, "SQL NULL, which the ORM returns as False: not 0.0")
        # The graph draws no point (rather than a 0) for a month with nothing shipped or returned.
        self.assertIn("'fill_temporal': False", self.env.ref("rma_recovery.rma_kpi_return_rate_action").context)
        for view_type in ("pivot", "graph"):
            arch = rates.get_views([(False, view_type)])["views"][view_type]["arch"]
            self.assertIn('name="return_rate"', arch)
