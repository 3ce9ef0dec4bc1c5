#!/usr/bin/env python3
"""Write the *Returns* dashboard of Odoo's Dashboards app, and its sample version, as o-spreadsheet JSON.

Community has no spreadsheet editor, so the dashboard is built here, from the KPI views' fields, and the two
files under data/files/ are this script's output (a test compares them):

    python3 tools/build_returns_dashboard.py

The dashboard: the four KPIs (return rate, recovery value %, turnaround, stock-accuracy delta) and the three of the
loop beyond our walls (vendor recovery and vendor turnaround of the units shipped to their vendors, realized
recovery of the graded units sold again) for the period filter, compared with the previous period; the return rate
of the last 12 months; turnaround per stage; recovered value per disposition code; the top return reasons and failure
codes. Filters: period, warehouse, product, product category, customer, disposition code. The sample version has
the same layout with typed figures: Odoo shows it
while the database has no RMA unit yet.
"""

import json
import os

VERSION = "18.5.10"
HERE = os.path.dirname(os.path.abspath(__file__))
FILES = os.path.join(os.path.dirname(HERE), "data", "files")

# Global filters (their ids are referenced by every data source's field matching).
PERIOD = "5d2c1b0e-7f3a-4c55-9a61-0c1e2f3a4b01"
WAREHOUSE = "5d2c1b0e-7f3a-4c55-9a61-0c1e2f3a4b02"
PRODUCT = "5d2c1b0e-7f3a-4c55-9a61-0c1e2f3a4b03"
CATEGORY = "5d2c1b0e-7f3a-4c55-9a61-0c1e2f3a4b04"
CUSTOMER = "5d2c1b0e-7f3a-4c55-9a61-0c1e2f3a4b05"
DISPOSITION = "5d2c1b0e-7f3a-4c55-9a61-0c1e2f3a4b06"

GLOBAL_FILTERS = [
    {"id": PERIOD, "type": "date", "label": "Period", "defaultValue": "last_90_days"},
    {
        "id": WAREHOUSE,
        "type": "relation",
        "label": "Warehouse",
        "modelName": "stock.warehouse",
        "defaultValueDisplayNames": [],
        "includeChildren": False,
    },
    {
        "id": PRODUCT,
        "type": "relation",
        "label": "Product",
        "modelName": "product.product",
        "defaultValueDisplayNames": [],
    },
    {
        "id": CATEGORY,
        "type": "relation",
        "label": "Product Category",
        "modelName": "product.category",
        "defaultValueDisplayNames": [],
        "includeChildren": True,
    },
    {
        "id": CUSTOMER,
        "type": "relation",
        "label": "Customer",
        "modelName": "res.partner",
        "defaultValueDisplayNames": [],
    },
    {
        "id": DISPOSITION,
        "type": "relation",
        "label": "Disposition Code",
        "modelName": "rma.disposition",
        "defaultValueDisplayNames": [],
    },
]

# Per KPI model: its date field, and which filters apply to it (a customer has no stock count, a return rate no code).
MODELS = {
    "rma.kpi.return.rate": (
        "date",
        {WAREHOUSE: "warehouse_id", PRODUCT: "product_id", CATEGORY: "categ_id", CUSTOMER: "partner_id"},
    ),
    "rma.kpi.unit": (
        "authorized_date",
        {
            WAREHOUSE: "warehouse_id",
            PRODUCT: "product_id",
            CATEGORY: "categ_id",
            CUSTOMER: "partner_id",
            DISPOSITION: "disposition_id",
        },
    ),
    "rma.kpi.stock.accuracy": ("date", {WAREHOUSE: "warehouse_id", PRODUCT: "product_id", CATEGORY: "categ_id"}),
    "rma.kpi.failure": ("date", {WAREHOUSE: "warehouse_id", PRODUCT: "product_id", CATEGORY: "categ_id"}),
    # Units shipped to their vendor in the period (the KPI report's "Vendor returns" table).
    "rma.vendor.return.line": (
        "shipped_date",
        {
            WAREHOUSE: "unit_id.rma_id.warehouse_id",
            PRODUCT: "product_id",
            CATEGORY: "product_id.categ_id",
            CUSTOMER: "unit_id.rma_id.partner_id",
        },
    ),
    # Units graded in the period, and their realized value once sold (rma.remarketing.report._realized_recovery).
    "rma.remarketing.report": ("work_finished_date", {PRODUCT: "product_id", CATEGORY: "product_id.categ_id"}),
}

STAGES = [
    ("hours_to_receive", "Authorized to received"),
    ("hours_to_inspect", "Received to inspected"),
    ("hours_to_dispose", "Inspected to disposed"),
    ("hours_to_close", "Disposed to closed"),
]

TEAL = "#01666B"
STYLES = {
    "1": {"bold": True, "fontSize": 16, "textColor": TEAL},
    "2": {"bold": True, "fontSize": 11, "textColor": "#434343"},
    "3": {"textColor": "#434343", "verticalAlign": "middle"},
}
FORMATS = {"1": "0.00%", "2": "#,##0.00", "3": "#,##0", "4": "mmm yyyy", "5": "0.0"}


def field_matching(model, offset=0, with_period=True):
    date_field, relations = MODELS[model]
    matching = {filter_id: {"chain": chain, "type": "many2one"} for filter_id, chain in relations.items()}
    if with_period:
        matching[PERIOD] = {"chain": date_field, "type": "datetime", "offset": offset}
    return matching


def pivot(formula_id, name, model, measures, rows=(), domain=(), offset=0, sort=None, with_period=True):
    return {
        "type": "ODOO",
        "id": formula_id,
        "formulaId": formula_id,
        "name": name,
        "model": model,
        "domain": list(domain),
        "context": {},
        "measures": [
            {"id": field, "fieldName": field, **({"aggregator": aggregator} if aggregator else {})}
            for field, aggregator in measures
        ],
        # "date:month" is the date field grouped by month.
        "rows": [dict(zip(("fieldName", "granularity"), field.split(":"), strict=False)) for field in rows],
        "columns": [],
        "sortedColumn": {"measure": sort, "order": "desc", "domain": []} if sort else None,
        "fieldMatching": field_matching(model, offset, with_period),
    }


def pivots():
    units, rate, accuracy = "rma.kpi.unit", "rma.kpi.return.rate", "rma.kpi.stock.accuracy"
    shipped_returned = [("qty_shipped", "sum"), ("qty_returned", "sum")]
    recovery = [("original_cost", "sum"), ("recovered_value", "sum")]
    turnaround = [(name, "avg") for name, _label in STAGES] + [("hours_total", "avg")]
    counts = [("quantity_delta", "sum"), ("value_delta", "sum")]
    disposed = [("disposition_id", "!=", False)]
    vendor, remarketing = "rma.vendor.return.line", "rma.remarketing.report"
    vendor_values = [("value_sent", "sum"), ("value_recovered", "sum")]
    shipped, answered = [("shipped_date", "!=", False)], [("answer_date", "!=", False)]
    realized, sold = [("realized_value", "sum"), ("sold_nrv", "sum")], [("status", "=", "sold")]
    definitions = [
        pivot("1", "Return rate - current", rate, shipped_returned),
        pivot("2", "Return rate - previous", rate, shipped_returned, offset=-1),
        pivot("3", "Recovery - current", units, recovery, domain=disposed),
        pivot("4", "Recovery - previous", units, recovery, domain=disposed, offset=-1),
        pivot("5", "Turnaround - current", units, turnaround),
        pivot("6", "Turnaround - previous", units, turnaround, offset=-1),
        pivot("7", "Stock accuracy - current", accuracy, counts),
        pivot("8", "Stock accuracy - previous", accuracy, counts, offset=-1),
        # The trend covers the last 12 months whatever the period filter.
        pivot("9", "Return rate per month", rate, shipped_returned, rows=["date:month"], with_period=False),
        pivot(
            "10",
            "Return reasons",
            rate,
            [("qty_returned", "sum")],
            rows=["reason_id"],
            domain=[("reason_id", "!=", False)],
            sort="qty_returned",
        ),
        pivot(
            "11",
            "Failure codes",
            "rma.kpi.failure",
            [("unit_count", "sum")],
            rows=["failure_code_id"],
            sort="unit_count",
        ),
        pivot("12", "Vendor recovery - current", vendor, vendor_values, domain=shipped),
        pivot("13", "Vendor recovery - previous", vendor, vendor_values, domain=shipped, offset=-1),
        # The turnaround of the units the vendor answered (the others have none yet).
        pivot("14", "Vendor turnaround - current", vendor, [("turnaround_days", "avg")], domain=answered),
        pivot("15", "Vendor turnaround - previous", vendor, [("turnaround_days", "avg")], domain=answered, offset=-1),
        pivot("16", "Realized recovery - current", remarketing, realized, domain=sold),
        pivot("17", "Realized recovery - previous", remarketing, realized, domain=sold, offset=-1),
    ]
    return {definition["id"]: definition for definition in definitions}


def kpi_rows(sample):
    """Data sheet, rows 2-13: (label, current formula, previous formula, format), or typed figures for the sample."""

    def value(formula_current, formula_previous, sample_current, sample_previous):
        return (sample_current, sample_previous) if sample else (formula_current, formula_previous)

    def pv(pivot_id, measure):
        # 0+: 0 rather than an empty cell when the period has no record.
        return f'(0+PIVOT.VALUE({pivot_id},"{measure}"))'

    rows = [
        (
            "Return rate",
            *value(
                f"=IFERROR({pv(1, 'qty_returned')}/{pv(1, 'qty_shipped')},0)",
                f"=IFERROR({pv(2, 'qty_returned')}/{pv(2, 'qty_shipped')},0)",
                "0.034",
                "0.041",
            ),
            "1",
        ),
        ("Units returned", *value(f"={pv(1, 'qty_returned')}", f"={pv(2, 'qty_returned')}", "68", "79"), "3"),
        ("Units shipped", *value(f"={pv(1, 'qty_shipped')}", f"={pv(2, 'qty_shipped')}", "2000", "1927"), "3"),
        (
            "Recovery value",
            *value(
                f"=IFERROR({pv(3, 'recovered_value')}/{pv(3, 'original_cost')},0)",
                f"=IFERROR({pv(4, 'recovered_value')}/{pv(4, 'original_cost')},0)",
                "0.612",
                "0.574",
            ),
            "1",
        ),
        (
            "Recovered value",
            *value(f"={pv(3, 'recovered_value')}", f"={pv(4, 'recovered_value')}", "41616", "38120"),
            "2",
        ),
        ("Original cost", *value(f"={pv(3, 'original_cost')}", f"={pv(4, 'original_cost')}", "68000", "66410"), "2"),
        (
            "Turnaround end to end (days, average)",
            *value(f"=IFERROR({pv(5, 'hours_total')}/24,0)", f"=IFERROR({pv(6, 'hours_total')}/24,0)", "6.4", "7.9"),
            "5",
        ),
        (
            "Stock-accuracy delta (units counted - system)",
            *value(f"={pv(7, 'quantity_delta')}", f"={pv(8, 'quantity_delta')}", "-2", "3"),
            "3",
        ),
        (
            "Stock-accuracy delta (value)",
            *value(f"={pv(7, 'value_delta')}", f"={pv(8, 'value_delta')}", "-1180", "240"),
            "2",
        ),
        (
            "Vendor recovery (credited + replaced / value sent)",
            *value(
                f"=IFERROR({pv(12, 'value_recovered')}/{pv(12, 'value_sent')},0)",
                f"=IFERROR({pv(13, 'value_recovered')}/{pv(13, 'value_sent')},0)",
                "0.86",
                "0.79",
            ),
            "1",
        ),
        (
            "Vendor turnaround (days, average)",
            *value(f"={pv(14, 'turnaround_days')}", f"={pv(15, 'turnaround_days')}", "12.5", "15.0"),
            "5",
        ),
        (
            "Realized recovery (realized value / NRV of units sold)",
            *value(
                f"=IFERROR({pv(16, 'realized_value')}/{pv(16, 'sold_nrv')},0)",
                f"=IFERROR({pv(17, 'realized_value')}/{pv(17, 'sold_nrv')},0)",
                "1.04",
                "0.97",
            ),
            "1",
        ),
    ]
    return rows


TREND_FIRST_ROW = 16  # Data!A16:E27: the last 12 months, oldest first.
STAGE_FIRST_ROW = 31  # Data!A31:C35: header and the four stages.
SAMPLE_TREND = [0.031, 0.036, 0.029, 0.041, 0.038, 0.035, 0.044, 0.039, 0.033, 0.037, 0.041, 0.034]
SAMPLE_STAGES = [(52.0, 61.5), (20.5, 26.0), (30.0, 41.0), (51.1, 61.1)]
SAMPLE_REASONS = [
    ("Defective on arrival", 24),
    ("Wrong item shipped", 15),
    ("No longer needed", 12),
    ("Damaged in transit", 9),
    ("End of lease", 8),
]
SAMPLE_FAILURES = [
    ("Battery fails to charge", 14),
    ("Cracked screen", 11),
    ("No power", 7),
    ("Keyboard", 5),
    ("Overheating", 3),
]


def data_sheet(sample):
    cells, formats, styles = {}, {}, {}
    cells.update({"A1": '=_t("KPI")', "B1": '=_t("This period")', "C1": '=_t("Previous period")'})
    styles["A1:C1"] = 2
    for index, (label, current, previous, number_format) in enumerate(kpi_rows(sample), start=2):
        cells[f"A{index}"] = f'=_t("{label}")'
        cells[f"B{index}"], cells[f"C{index}"] = current, previous
        formats[f"B{index}:C{index}"] = int(number_format)

    header = TREND_FIRST_ROW - 1
    cells.update(
        {
            f"A{header}": '=_t("Month")',
            f"B{header}": '=_t("Months ago")',
            f"C{header}": '=_t("Returned")',
            f"D{header}": '=_t("Shipped")',
            f"E{header}": '=_t("Return rate")',
        }
    )
    styles[f"A{header}:E{header}"] = 2
    for offset in range(12):
        row = TREND_FIRST_ROW + offset
        cells[f"B{row}"] = str(11 - offset)
        cells[f"A{row}"] = f"=EDATE(TODAY(),-B{row})"
        if sample:
            cells[f"E{row}"] = str(SAMPLE_TREND[offset])
        else:
            cells[f"C{row}"] = f'=IFERROR(PIVOT.VALUE(9,"qty_returned","date:month",A{row}),0)'
            cells[f"D{row}"] = f'=IFERROR(PIVOT.VALUE(9,"qty_shipped","date:month",A{row}),0)'
            cells[f"E{row}"] = f"=IFERROR(C{row}/D{row},0)"
    last = TREND_FIRST_ROW + 11
    formats[f"A{TREND_FIRST_ROW}:A{last}"] = 4
    formats[f"E{TREND_FIRST_ROW}:E{last}"] = 1

    header = STAGE_FIRST_ROW
    cells.update(
        {
            f"A{header}": '=_t("Stage (average hours)")',
            f"B{header}": '=_t("This period")',
            f"C{header}": '=_t("Previous period")',
        }
    )
    styles[f"A{header}:C{header}"] = 2
    for offset, (field, label) in enumerate(STAGES):
        row = STAGE_FIRST_ROW + 1 + offset
        cells[f"A{row}"] = f'=_t("{label}")'
        if sample:
            cells[f"B{row}"], cells[f"C{row}"] = (str(hours) for hours in SAMPLE_STAGES[offset])
        else:
            cells[f"B{row}"] = f'=IFERROR(PIVOT.VALUE(5,"{field}"),0)'
            cells[f"C{row}"] = f'=IFERROR(PIVOT.VALUE(6,"{field}"),0)'
        formats[f"B{row}:C{row}"] = 5
    return sheet("sheet2", "Data", cells, cols={0: 300, 1: 120, 2: 120}, styles=styles, formats=formats)


def sheet(sheet_id, name, cells, cols=None, rows=None, styles=None, formats=None, figures=(), tables=(), grid=True):
    return {
        "id": sheet_id,
        "name": name,
        "colNumber": 10,
        "rowNumber": 60,
        "rows": {str(index): {"size": size} for index, size in (rows or {}).items()},
        "cols": {str(index): {"size": size} for index, size in (cols or {}).items()},
        "merges": [],
        "cells": cells,
        "styles": styles or {},
        "formats": formats or {},
        "borders": {},
        "conditionalFormats": [],
        "dataValidationRules": [],
        "figures": list(figures),
        "tables": list(tables),
        "areGridLinesVisible": grid,
        "isVisible": True,
        "headerGroups": {"ROW": [], "COL": []},
        "comments": {},
    }


def figure(figure_id, col, row, x, y, width, height, data):
    return {
        "id": figure_id,
        "col": col,
        "row": row,
        "offset": {"x": x, "y": y},
        "width": width,
        "height": height,
        "tag": "chart",
        "data": {**data, "chartId": figure_id},
    }


def scorecard(title, row, higher_is_better, background):
    good, bad = "#00A04A", "#DC6965"
    return {
        "type": "scorecard",
        "title": {"text": title, "bold": True, "color": "#434343"},
        "background": background,
        "keyValue": f"Data!B{row}",
        "baseline": f"Data!C{row}",
        "baselineMode": "difference",
        "baselineDescr": {"text": "since previous period"},
        "baselineColorUp": good if higher_is_better else bad,
        "baselineColorDown": bad if higher_is_better else good,
        "humanize": False,
    }


def table_range(cell_range):
    return {
        "range": cell_range,
        "type": "static",
        "config": {
            "hasFilters": False,
            "totalRow": False,
            "firstColumn": False,
            "lastColumn": False,
            "numberOfHeaders": 1,
            "bandedRows": True,
            "bandedColumns": False,
            "automaticAutofill": True,
            "styleId": "None",
        },
    }


def dashboard_sheet(sample):
    # Section titles (1-based rows); each chart or table starts on the row below its title.
    trend, middle, tops = 8, 25, 42
    cells = {
        f"A{trend}": '=_t("Return rate, last 12 months")',
        f"A{middle}": '=_t("Turnaround per stage (average hours)")',
        f"E{middle}": '=_t("Recovered value per disposition code")',
        f"A{tops}": '=_t("Top return reasons")',
        f"E{tops}": '=_t("Top failure codes")',
    }
    first, last = tops + 1, tops + 11
    if sample:
        cells.update(
            {
                f"A{first}": '=_t("Return Reason")',
                f"B{first}": '=_t("Units Returned")',
                f"E{first}": '=_t("Failure Code")',
                f"F{first}": '=_t("Units")',
            }
        )
        for offset, ((reason, units), (failure, count)) in enumerate(zip(SAMPLE_REASONS, SAMPLE_FAILURES, strict=True)):
            row = first + 1 + offset
            cells.update({f"A{row}": reason, f"B{row}": str(units), f"E{row}": failure, f"F{row}": str(count)})
    else:
        cells.update({f"A{first}": "=PIVOT(10, 10, FALSE, FALSE)", f"E{first}": "=PIVOT(11, 10, FALSE, FALSE)"})
    styles = {
        f"A{trend}": 1,
        f"A{middle}": 1,
        f"E{middle}": 1,
        f"A{tops}": 1,
        f"E{tops}": 1,
        f"A{first}:B{last}": 3,
        f"E{first}:F{last}": 3,
    }
    trend_rows = f"Data!{{}}{TREND_FIRST_ROW}:{{}}{TREND_FIRST_ROW + 11}"
    stage_last = STAGE_FIRST_ROW + len(STAGES)
    figures = [
        figure(
            "rma-kpi-return-rate",
            0,
            0,
            0,
            10,
            240,
            110,
            scorecard("Return Rate", 2, higher_is_better=False, background="#EFF6FF"),
        ),
        figure(
            "rma-kpi-recovery",
            0,
            0,
            250,
            10,
            240,
            110,
            scorecard("Recovery Value", 5, higher_is_better=True, background="#ECFDF5"),
        ),
        figure(
            "rma-kpi-turnaround",
            0,
            0,
            500,
            10,
            240,
            110,
            scorecard("Turnaround (days)", 8, higher_is_better=False, background="#FFF7ED"),
        ),
        figure(
            "rma-kpi-stock-accuracy",
            0,
            0,
            750,
            10,
            240,
            110,
            scorecard("Stock Accuracy (units)", 9, higher_is_better=True, background="#F5F3FF"),
        ),
        # The second row: the loop beyond our walls, vendors and the units sold again.
        figure(
            "rma-kpi-vendor-recovery",
            0,
            3,
            0,
            10,
            240,
            110,
            scorecard("Vendor Recovery", 11, higher_is_better=True, background="#ECFDF5"),
        ),
        figure(
            "rma-kpi-vendor-turnaround",
            0,
            3,
            250,
            10,
            240,
            110,
            scorecard("Days at Vendor", 12, higher_is_better=False, background="#FFF7ED"),
        ),
        figure(
            "rma-kpi-realized-recovery",
            0,
            3,
            500,
            10,
            240,
            110,
            scorecard("Realized Recovery", 13, higher_is_better=True, background="#EFF6FF"),
        ),
        figure(
            "rma-kpi-return-rate-trend",
            0,
            trend,
            0,
            10,
            990,
            320,
            {
                "type": "line",
                "title": {},
                "dataSets": [{"dataRange": trend_rows.format("E", "E"), "yAxisId": "y"}],
                "dataSetsHaveTitle": False,
                "labelRange": trend_rows.format("A", "A"),
                "labelsAsText": True,
                "legendPosition": "none",
                "stacked": False,
                "aggregated": False,
                "cumulative": False,
                "fillArea": True,
            },
        ),
        figure(
            "rma-kpi-turnaround-stages",
            0,
            middle,
            0,
            10,
            490,
            320,
            {
                "type": "bar",
                "title": {},
                "dataSets": [
                    {"dataRange": f"Data!B{STAGE_FIRST_ROW}:B{stage_last}"},
                    {"dataRange": f"Data!C{STAGE_FIRST_ROW}:C{stage_last}"},
                ],
                "dataSetsHaveTitle": True,
                "labelRange": f"Data!A{STAGE_FIRST_ROW + 1}:A{stage_last}",
                "legendPosition": "top",
                "stacked": False,
                "aggregated": False,
            },
        ),
    ]
    recovery_by_code = (
        {
            "type": "bar",
            "title": {},
            "dataSets": [{"dataRange": "Data!H2:H7"}],
            "dataSetsHaveTitle": True,
            "labelRange": "Data!G3:G7",
            "legendPosition": "none",
            "stacked": False,
            "aggregated": False,
        }
        if sample
        else {
            "type": "odoo_bar",
            "title": {},
            "background": "#FFFFFF",
            "legendPosition": "none",
            "metaData": {
                "groupBy": ["disposition_id"],
                "measure": "recovered_value",
                "order": "DESC",
                "resModel": "rma.kpi.unit",
                "mode": "bar",
            },
            "searchParams": {
                "comparison": None,
                "context": {},
                "domain": [["disposition_id", "!=", False]],
                "groupBy": ["disposition_id"],
                "orderBy": [],
            },
            "dataSets": [],
            "verticalAxisPosition": "left",
            "stacked": False,
            "axesDesign": {"y": {"title": {"text": "Recovered value"}}},
            "fieldMatching": field_matching("rma.kpi.unit"),
        }
    )
    figures.append(figure("rma-kpi-recovery-by-code", 4, middle, 0, 10, 490, 320, recovery_by_code))
    return sheet(
        "sheet1",
        "Dashboard",
        cells,
        cols={0: 250, 1: 150, 2: 40, 3: 40, 4: 250, 5: 150, 6: 40, 7: 60},
        rows={0: 40, 1: 40, 2: 40, 3: 40, 4: 40, 5: 40, trend - 1: 40, middle - 1: 40, tops - 1: 40},
        styles=styles,
        figures=figures,
        tables=[table_range(f"A{first}:B{last}"), table_range(f"E{first}:F{last}")],
        grid=False,
    )


SAMPLE_RECOVERY_BY_CODE = [("RTS", 18200), ("REF", 12400), ("REP", 7300), ("PH", 2216), ("REC", 1500)]


def build(sample=False):
    data = data_sheet(sample)
    if sample:
        # Recovered value per code, typed (the real dashboard reads it from rma.kpi.unit).
        data["cells"].update({"G2": '=_t("Code")', "H2": '=_t("Recovered value")'})
        for row, (code, value) in enumerate(SAMPLE_RECOVERY_BY_CODE, start=3):
            data["cells"].update({f"G{row}": code, f"H{row}": str(value)})
    spreadsheet = {
        "version": VERSION,
        "sheets": [dashboard_sheet(sample), data],
        "styles": STYLES,
        "formats": FORMATS,
        "borders": {},
        "revisionId": "START_REVISION",
        "uniqueFigureIds": True,
        "settings": {
            "locale": {
                "name": "English (US)",
                "code": "en_US",
                "thousandsSeparator": ",",
                "decimalSeparator": ".",
                "dateFormat": "mm/dd/yyyy",
                "timeFormat": "hh:mm:ss",
                "formulaArgSeparator": ",",
                "weekStart": 7,
            }
        },
        "pivots": {} if sample else pivots(),
        "pivotNextId": 1 if sample else 18,
        "customTableStyles": {},
        "globalFilters": [] if sample else GLOBAL_FILTERS,
        "lists": {},
        "listNextId": 1,
        "chartOdooMenusReferences": {}
        if sample
        else {
            "rma-kpi-return-rate": "rma_recovery.rma_kpi_return_rate_menu",
            "rma-kpi-recovery": "rma_recovery.rma_kpi_unit_menu",
            "rma-kpi-turnaround": "rma_recovery.rma_kpi_unit_menu",
            "rma-kpi-stock-accuracy": "rma_recovery.rma_kpi_stock_accuracy_menu",
            "rma-kpi-return-rate-trend": "rma_recovery.rma_kpi_return_rate_menu",
            "rma-kpi-recovery-by-code": "rma_recovery.rma_kpi_unit_menu",
            "rma-kpi-vendor-recovery": "rma_recovery.rma_kpi_vendor_menu",
            "rma-kpi-vendor-turnaround": "rma_recovery.rma_kpi_vendor_menu",
            "rma-kpi-realized-recovery": "rma_recovery.rma_remarketing_report_menu",
        },
    }
    return spreadsheet


def dump(spreadsheet):
    return json.dumps(spreadsheet, indent=1, ensure_ascii=False) + "\n"


OUTPUTS = {"returns_dashboard.json": False, "returns_sample_dashboard.json": True}

if __name__ == "__main__":
    os.makedirs(FILES, exist_ok=True)
    for file_name, sample in OUTPUTS.items():
        with open(os.path.join(FILES, file_name), "w", encoding="utf-8") as output:
            output.write(dump(build(sample)))
        print(os.path.join(FILES, file_name))
