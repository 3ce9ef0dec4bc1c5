"""The user's calls on a generated depot's history (bench/generate.py): median and p95 over 50 calls each.

Run by `make bench-scale` against the generator's database (RMA_GEN_DB), and the same script against a small one
for the targets' reference: scans and forms within 1.2x of the small database, lists and searches <= 300 ms, the
Returns dashboard <= 2 s. Each call starts with an empty ORM cache, as a new request does, and its writes are
flushed inside its time. Everything is rolled back at the end (bench/run.py).

What the client asks is what the web client sends: ``web_search_read``/``web_read`` with the fields of the addon's
own list and form views, the search view's domains, the dashboard's pivots (``_read_group`` as the spreadsheet
asks them), the scan screens' methods.
"""

import random
import statistics
import time

from bench_kpi import _dashboard_pivots
from common import Fixture
from lxml import etree

from odoo import Command, fields
from odoo.tools import SQL

CALLS = 50
SLOW_CALLS = 5  # for a call slower than a second: enough for a median, without an hour of waiting


def _spec(env, model, view_type):
    """The web client's ``specification`` for the addon's view: its top-level fields, many2one as display names."""
    arch = env[model].get_views([(False, view_type)])["views"][view_type]["arch"]
    root = etree.fromstring(arch)
    spec = {}
    for node in root.iter("field"):
        if any(parent.tag in ("list", "kanban", "form") and parent is not root for parent in node.iterancestors()):
            continue  # a sub-view's field: read with its x2many
        name = node.get("name")
        field = env[model]._fields[name]
        if field.type == "many2one":
            spec[name] = {"fields": {"display_name": {}}}
        elif field.type in ("one2many", "many2many"):
            spec[name] = {"fields": {"display_name": {}}}
        else:
            spec[name] = {}
    return spec


class Calls:
    """Times a call CALLS times (SLOW_CALLS when the first takes over a second): median, p95, queries per call."""

    def __init__(self, env, label_width=58):
        self.env, self.results, self.width = env, {}, label_width

    def __call__(self, label, function, arguments):
        """``function(argument)`` for each of ``arguments`` (at least CALLS)."""
        env, times, queries = self.env, [], []
        for index, argument in enumerate(arguments):
            if index == CALLS or (index == SLOW_CALLS and times[0] > 1000):
                break
            env.invalidate_all()
            env.flush_all()
            count = env.cr.sql_log_count
            started = time.perf_counter()
            function(argument)
            env.flush_all()
            times.append((time.perf_counter() - started) * 1000)
            queries.append(env.cr.sql_log_count - count)
        times_sorted = sorted(times)
        p95 = times_sorted[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        result = {
            "calls": len(times),
            "median": statistics.median(times),
            "p95": p95,
            "queries": statistics.median(queries),
        }
        self.results[label] = result
        print(
            f"  {label:<{self.width}} {len(times):>3} calls  median {result['median']:>8.1f} ms"
            f"  p95 {p95:>8.1f} ms  {result['queries']:>6.0f} queries",
            flush=True,
        )
        return result


def _company(env):
    """The generated company with the most units, as its Returns Manager sees it."""
    env.cr.execute(
        "SELECT company_id FROM rma_line GROUP BY company_id ORDER BY count(*) DESC, company_id LIMIT 1",
    )
    company = env["res.company"].browse(env.cr.fetchone()[0])
    # Mitchell Admin, the generator's Returns Manager (inventory and accounting manager too), not the superuser:
    # access rules and record rules apply as for a user.
    return company, env(user=env.ref("base.user_admin"), context={"allowed_company_ids": [company.id], "tz": "UTC"})


def _sample(env, query, *args, count=CALLS * 2, seed=11):
    env.cr.execute(SQL(query, *args))
    ids = [row[0] for row in env.cr.fetchall()]
    rng = random.Random(seed)
    return rng.sample(ids, min(count, len(ids)))


def run(env, measure):
    company, env = _company(env)
    env.cr.execute(SQL("SELECT count(*) FROM rma_order WHERE company_id = %s", company.id))
    rmas = env.cr.fetchone()[0]
    env.cr.execute(
        "SELECT (SELECT count(*) FROM rma_order), (SELECT count(*) FROM rma_line),"
        " (SELECT count(*) FROM rma_custody_event)"
    )
    total_rmas, total_units, total_events = env.cr.fetchone()
    print(
        f"  database: {total_rmas:,} RMAs, {total_units:,} units, {total_events:,} custody events;"
        f" measured as {company.name} ({rmas:,} RMAs)",
        flush=True,
    )
    calls = Calls(env)
    Line, Order, Scan = env["rma.line"], env["rma.order"], env["rma.scan"]

    # Scan-receive: an authorized RMA of 100 delivered units of the company (set-up, not measured).
    fixture = Fixture(env)
    picking = fixture.deliver(CALLS)
    rma = Order.create(
        {
            "partner_id": fixture.customer.id,
            "reason_id": fixture.reason.id,
            "picking_id": picking.id,
            "warehouse_id": fixture.warehouse.id,
            "line_ids": [
                Command.create({"product_id": fixture.product.id, "serial_number": lot.name})
                for lot in picking.move_line_ids.lot_id
            ],
        }
    )
    rma.action_authorize()
    serials = rma.line_ids.mapped("serial_number")
    calls("scan-receive (rma.scan.receive_scan)", lambda serial: Scan.receive_scan(serial, rma_id=rma.id), serials)
    assert set(rma.line_ids.mapped("state")) == {"received"}, rma.line_ids.mapped("state")

    in_work = _sample(
        env,
        "SELECT id FROM rma_line WHERE company_id = %s AND state IN ('received', 'inspection', 'ready', 'in_progress')",
        company.id,
    )
    in_work_serials = Line.browse(in_work).mapped("serial_number")
    calls(
        "custody scan (rma.scan.custody_scan)",
        lambda serial: Scan.custody_scan(serial, station="SHELF"),
        in_work_serials,
    )

    any_units = _sample(env, "SELECT id FROM rma_line WHERE company_id = %s", company.id)
    any_serials = Line.browse(any_units).mapped("serial_number")
    line_list = _spec(env, "rma.line", "list")
    open_domain = [("state", "in", ("received", "inspection", "disposition", "in_progress", "ready"))]
    calls(
        "Units list, default view (Open)",
        lambda _i: Line.web_search_read(open_domain, line_list, limit=80, count_limit=10001),
        range(CALLS),
    )
    calls(
        "Units list, search a serial",
        lambda serial: Line.web_search_read(
            [("serial_number", "ilike", serial)], line_list, limit=80, count_limit=10001
        ),
        any_serials,
    )
    order_list = _spec(env, "rma.order", "list")
    calls(
        "RMA list, default view",
        lambda _i: Order.web_search_read([], order_list, limit=80, count_limit=10001),
        range(CALLS),
    )
    customers = _sample(env, "SELECT DISTINCT partner_id FROM rma_order WHERE company_id = %s", company.id)
    customer_names = env["res.partner"].browse(customers).mapped("name")
    calls(
        "RMA list, search by customer",
        lambda name: Order.web_search_read([("partner_id", "ilike", name)], order_list, limit=80, count_limit=10001),
        (customer_names * CALLS)[:CALLS],
    )
    line_form = _spec(env, "rma.line", "form")
    calls("Unit form (web_read)", lambda unit_id: Line.browse(unit_id).web_read(line_form), any_units)
    order_form = _spec(env, "rma.order", "form")
    rma_ids = _sample(env, "SELECT id FROM rma_order WHERE company_id = %s", company.id)
    calls("RMA form (web_read)", lambda rma_id: Order.browse(rma_id).web_read(order_form), rma_ids)

    # The Returns dashboard: all its pivots, as one load of the dashboard.
    pivots = list(_dashboard_pivots(env))
    calls(
        f"Returns dashboard ({len(pivots)} pivots)",
        lambda _i: [model._read_group(domain, rows, measures) for _name, model, domain, rows, measures in pivots],
        range(CALLS),
    )
    for name, model, domain, rows, measures in pivots:
        calls(
            f"  dashboard pivot: {name}",
            lambda _i, model=model, domain=domain, rows=rows, measures=measures: model._read_group(
                domain, rows, measures
            ),
            range(SLOW_CALLS * 2),
        )
    company_domain = [("company_id", "=", company.id)]
    kpi_pivots = (
        ("rma.kpi.unit", ["disposition_id", "authorized_date:month"], ["recovered_value:sum"]),
        ("rma.kpi.unit", ["disposition_id"], ["hours_total:avg", "hours_to_receive:avg"]),
        ("rma.kpi.return.rate", ["product_id", "date:week"], ["qty_shipped:sum", "qty_returned:sum"]),
        ("rma.kpi.failure", ["failure_code_id"], ["unit_count:sum"]),
        ("rma.kpi.stock.accuracy", ["warehouse_id", "date:month"], ["quantity_delta:sum", "value_delta:sum"]),
    )
    for model, rows, measures in kpi_pivots:
        calls(
            f"pivot {model} by {', '.join(rows)}",
            lambda _i, model=model, rows=rows, measures=measures: env[model]._read_group(
                company_domain, rows, measures
            ),
            range(CALLS),
        )
    calls(
        "baseline: Odoo's Moves Analysis by product and week",
        lambda _i: env["stock.move"]._read_group(
            [*company_domain, ("state", "=", "done")], ["product_id", "date:week"], ["product_qty:sum"]
        ),
        range(CALLS),
    )

    Event = env["rma.custody.event"]
    calls(
        "integrity check of one unit (its chain and head)",
        lambda unit_id: Event._check_integrity(company, after_line_id=unit_id - 1, upto_line_id=unit_id, seals=False),
        any_units,
    )
    env.cr.execute(
        SQL(
            "SELECT date_trunc('month', request_date)::date FROM rma_order WHERE company_id = %s"
            " GROUP BY 1 ORDER BY count(*) DESC LIMIT 1",
            company.id,
        )
    )
    month = env.cr.fetchone()[0]
    checklist = env["rma.audit.checklist"].create(
        {"company_id": company.id, "date_from": month, "date_to": fields.Date.end_of(month, "month")}
    )
    calls(f"audit checklist of {month:%B %Y}", lambda _i: checklist.action_compute(), range(CALLS))
    return calls.results
