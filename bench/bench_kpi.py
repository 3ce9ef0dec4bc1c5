"""KPI queries and reports on 100,000 RMA units over 24 months.

The generator writes the rows straight to the tables (set-up, not measured): 1,000 RMAs of 100 units, authorized
over 24 months, each unit received, inspected, disposed (one code in turn) and closed hours later with its values,
200,000 units shipped to the customer and a count in quarantine each day over the same months. Measured: each KPI
query (the four KPIs of a month, the pivot read of each view, the 11 pivots of the Returns dashboard), with Odoo's
own Moves Analysis pivot over the same moves as baseline, the monthly PDF (its HTML, the addon's part) and the XLSX
of a period holding all 100,000 units (time and peak memory of the process).
"""

import json
import resource
import time

from common import Fixture
from dateutil.relativedelta import relativedelta

from odoo import fields
from odoo.tools import SQL

RMAS, UNITS_PER_RMA, MONTHS = 1000, 100, 24
SHIPPED = 200_000
COUNT_DAYS = 730


def generate(env, fixture):
    company, warehouse = fixture.company, fixture.warehouse
    codes = env["rma.disposition"].search([("company_id", "in", [False, company.id])])
    start = fields.Datetime.now().replace(day=1, hour=8, minute=0, second=0) - relativedelta(months=MONTHS - 1)
    env.flush_all()
    env.cr.execute(
        SQL(
            "INSERT INTO rma_order (company_id, warehouse_id, partner_id, reason_id, request_date, state, name)"
            " SELECT %s, %s, %s, %s, %s + (i %% %s) * interval '1 month', 'done', 'BENCH/' || i"
            " FROM generate_series(1, %s) AS i RETURNING id",
            company.id,
            warehouse.id,
            fixture.customer.id,
            fixture.reason.id,
            start,
            MONTHS,
            RMAS,
        )
    )
    rma_ids = [row[0] for row in env.cr.fetchall()]
    env.cr.execute(
        SQL(
            """INSERT INTO rma_line (rma_id, company_id, product_id, quantity, state, remedy_requested, remedy,
                                     serial_number, disposition_id, authorized_date, received_date,
                                     inspection_done_date, disposition_date, closed_date, book_value,
                                     net_realizable_value, work_cost, recovery_value)
               SELECT rma.id, %(company)s, %(product)s, 1, 'closed', 'none', 'none', 'KPI-' || rma.id || '-' || n,
                      (%(codes)s::int[])[1 + (n %% %(code_count)s)], rma.request_date,
                      rma.request_date + (n %% 48) * interval '1 hour',
                      rma.request_date + (n %% 48 + 3) * interval '1 hour',
                      rma.request_date + (n %% 48 + 5) * interval '1 hour',
                      rma.request_date + (n %% 48 + 30) * interval '1 hour', 500, 350, 40, 15
                 FROM rma_order rma, generate_series(1, %(units)s) AS n
                WHERE rma.id = ANY(%(rmas)s)""",
            company=company.id,
            product=fixture.product.id,
            codes=codes.ids,
            code_count=len(codes),
            units=UNITS_PER_RMA,
            rmas=rma_ids,
        )
    )
    stock, customers = warehouse.lot_stock_id, fixture.customers
    env.cr.execute(
        SQL(
            """INSERT INTO stock_move (company_id, product_id, product_uom, location_id, location_dest_id,
                                       procure_method, product_uom_qty, product_qty, quantity, date, state, partner_id)
               SELECT %s, %s, %s, %s, %s, 'make_to_stock', 1, 1, 1, %s + (i %% %s) * interval '1 month', 'done', %s
                 FROM generate_series(1, %s) AS i""",
            company.id,
            fixture.product.id,
            fixture.product.uom_id.id,
            stock.id,
            customers.id,
            start,
            MONTHS,
            fixture.customer.id,
            SHIPPED,
        )
    )
    # Inventory counts in quarantine: one a day, a unit more or less than the system knew.
    inventory = env["stock.location"].search([("usage", "=", "inventory"), ("company_id", "in", [company.id, False])])
    env.cr.execute(
        SQL(
            """INSERT INTO stock_move (company_id, product_id, product_uom, location_id, location_dest_id,
                                       procure_method, product_uom_qty, product_qty, quantity, date, state,
                                       is_inventory)
               SELECT %(company)s, %(product)s, %(uom)s,
                      CASE WHEN i %% 2 = 0 THEN %(inventory)s ELSE %(quarantine)s END,
                      CASE WHEN i %% 2 = 0 THEN %(quarantine)s ELSE %(inventory)s END,
                      'make_to_stock', 1, 1, 1, %(start)s + i * interval '1 day', 'done', TRUE
                 FROM generate_series(0, %(days)s) AS i""",
            company=company.id,
            product=fixture.product.id,
            uom=fixture.product.uom_id.id,
            inventory=inventory[:1].id,
            quarantine=warehouse.rma_quarantine_location_id.id,
            start=start,
            days=COUNT_DAYS,
        )
    )
    env.invalidate_all()
    # The planner's statistics, as autovacuum keeps them in a live database (rows inserted in this transaction have
    # none yet; without them PostgreSQL plans the views for a few rows).
    env.cr.execute(SQL("ANALYZE stock_move, rma_line, rma_order"))
    return start


def _dashboard_pivots(env):
    """What the Returns dashboard asks the server, per pivot: its domain, the period filter (last 90 days, the
    previous-period pivots the 90 days before) on its date field, its row groups and measures."""
    dashboard = json.loads(env.ref("rma_recovery.spreadsheet_dashboard_returns").spreadsheet_data)
    period_filter = dashboard["globalFilters"][0]["id"]
    today = fields.Datetime.now().replace(hour=0, minute=0, second=0, microsecond=0)
    for pivot in dashboard["pivots"].values():
        domain = list(pivot["domain"])
        matching = pivot["fieldMatching"].get(period_filter)
        if matching:
            end = today + relativedelta(days=1 + 90 * matching["offset"])
            domain += [(matching["chain"], ">=", end - relativedelta(days=90)), (matching["chain"], "<", end)]
        rows = [":".join(filter(None, (row["fieldName"], row.get("granularity")))) for row in pivot["rows"]]
        measures = [f"{m['fieldName']}:{m.get('aggregator', 'sum')}" for m in pivot["measures"]]
        yield pivot["name"], env[pivot["model"]], domain, rows, measures


def run(env, measure):
    fixture = Fixture(env)
    start = generate(env, fixture)
    units = RMAS * UNITS_PER_RMA
    month_from = (start + relativedelta(months=MONTHS - 2)).date()
    month_to = month_from + relativedelta(months=1, days=-1)
    kpi = env["rma.kpi.unit"]
    print(f"  data: {units:,} RMA units and {SHIPPED:,} units shipped over {MONTHS} months", flush=True)
    summary = measure(
        "the four KPIs of one month (_kpi_summary)", 1, lambda: kpi._kpi_summary(fixture.company, month_from, month_to)
    )
    assert summary["units_returned"] and summary["units_shipped"], summary
    domain = [("company_id", "=", fixture.company.id)]
    measure(
        "pivot: recovery by code and month (rma.kpi.unit)",
        1,
        lambda: kpi._read_group(domain, ["disposition_id", "authorized_date:month"], ["recovered_value:sum"]),
    )
    measure(
        "pivot: turnaround by code (rma.kpi.unit)",
        1,
        lambda: kpi._read_group(domain, ["disposition_id"], ["hours_total:avg", "hours_to_receive:avg"]),
    )
    # Baseline: Odoo's own Moves Analysis pivot over the same moves (Inventory > Reporting > Moves Analysis).
    measure(
        "baseline: Odoo's Moves Analysis, done moves by product and week",
        1,
        lambda: env["stock.move"]._read_group(
            [*domain, ("state", "=", "done")], ["product_id", "date:week"], ["product_qty:sum"]
        ),
    )
    measure(
        "pivot: return rate by product and week (rma.kpi.return.rate)",
        1,
        lambda: env["rma.kpi.return.rate"]._read_group(
            domain, ["product_id", "date:week"], ["qty_shipped:sum", "qty_returned:sum"]
        ),
    )
    measure(
        "pivot: failure codes (rma.kpi.failure)",
        1,
        lambda: env["rma.kpi.failure"]._read_group(domain, ["failure_code_id"], ["unit_count:sum"]),
    )
    measure(
        "pivot: stock accuracy by warehouse and month (rma.kpi.stock.accuracy)",
        1,
        lambda: env["rma.kpi.stock.accuracy"]._read_group(
            domain, ["warehouse_id", "date:month"], ["quantity_delta:sum", "value_delta:sum"]
        ),
    )
    for name, model, pivot_domain, rows, measures in _dashboard_pivots(env):
        measure(
            f"dashboard pivot: {name}",
            1,
            lambda model=model, pivot_domain=pivot_domain, rows=rows, measures=measures: model._read_group(
                pivot_domain, rows, measures
            ),
        )
    report = env["rma.kpi.report"].create(
        {"company_id": fixture.company.id, "period": "month", "date_from": month_from}
    )
    pdf = env.ref("rma_recovery.action_report_rma_kpi")
    measure("monthly KPI report (HTML of the PDF)", 1, lambda: pdf._render_qweb_html(pdf.report_name, report.ids))
    # The whole history: a custom range (a monthly report covers one calendar month).
    everything = env["rma.kpi.report"].create(
        {
            "company_id": fixture.company.id,
            "period": "custom",
            "date_from": start.date(),
            "date_to": fields.Date.today(),
        }
    )
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    content = everything._build_xlsx(everything._get_report_data())
    elapsed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    print(
        f"  XLSX of {units:,} detail rows: {elapsed:.1f} s, {len(content) / 1e6:.1f} MB file,"
        f" process peak {peak_mb:.0f} MB (+{grown_mb:.0f} MB)",
        flush=True,
    )
    measure.ratio(
        "pivot: return rate by product and week (rma.kpi.return.rate)",
        "baseline: Odoo's Moves Analysis, done moves by product and week",
    )
    results = measure.results
    slowest = max(results[label]["ms"] for label in results if label.startswith(("the four", "pivot", "dashboard")))
    html_ms = results["monthly KPI report (HTML of the PDF)"]["ms"]
    print(
        f"  targets: each KPI query <= 300 ms: slowest {slowest:.0f} ms {'met' if slowest <= 300 else 'NOT met'};"
        f" monthly report <= 10 s: {html_ms / 1000:.1f} s {'met' if html_ms <= 10000 else 'NOT met'};"
        f" XLSX <= 15 s: {elapsed:.1f} s {'met' if elapsed <= 15 else 'NOT met'};"
        f" <= 250 MB peak: {peak_mb:.0f} MB {'met' if peak_mb <= 250 else 'NOT met'}"
    )
