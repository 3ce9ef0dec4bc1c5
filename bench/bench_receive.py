"""Receive returned units by scan and in batch, and verify the chain of custody, against Odoo's native returns.

Per unit: milliseconds and SQL queries. One scan-receive goes through rma.scan.receive_scan, the method the
Receive screen calls; the baseline is the native return wizard for one unit (create the return, validate it).
The batch receipt of 1,000 units (stock.picking._rma_receive) is compared with the native return of a
1,000-unit delivery. Verification speed: events per second of the integrity check over 100,000 events.
"""

import time

from common import Fixture, native_return

from odoo import Command, fields
from odoo.tools import SQL

from odoo.addons.rma_recovery.models.rma_custody_event import custody_hash

SINGLE_UNITS = 30
SMALL_BATCH, BATCH = 100, 1000
VERIFY_UNITS, VERIFY_EVENTS_PER_UNIT = 1000, 100


def authorized_rma(env, fixture, picking):
    rma = env["rma.order"].create(
        {
            "partner_id": fixture.customer.id,
            "reason_id": fixture.reason.id,
            "picking_id": picking.id,
            "line_ids": [
                Command.create({"product_id": fixture.product.id, "serial_number": lot.name})
                for lot in picking.move_line_ids.lot_id
            ],
        }
    )
    rma.action_authorize()
    return rma


def seed_events(env, fixture):
    """100,000 chained events on 1,000 units, written straight to the table (setup, not measured)."""
    rma = env["rma.order"].create(
        {
            "partner_id": fixture.customer.id,
            "reason_id": fixture.reason.id,
            "line_ids": [Command.create({"product_id": fixture.cable.id, "quantity": 1}) for _i in range(VERIFY_UNITS)],
        }
    )
    env.flush_all()
    Event = env["rma.custody.event"]
    now = fields.Datetime.now()
    columns = ["sequence", "line_id", "rma_id", "company_id", "product_id", "event_type", "user_id", "event_date"]
    rows, heads = [], {}
    for line in rma.line_ids:
        previous = None
        for sequence in range(1, VERIFY_EVENTS_PER_UNIT + 1):
            values = {
                "sequence": sequence,
                "line_id": line.id,
                "rma_id": rma.id,
                "company_id": rma.company_id.id,
                "product_id": fixture.cable.id,
                "event_type": "scan",
                "user_id": env.uid,
                "event_date": now,
            }
            digest = custody_hash(previous, Event._hash_values(values))
            rows.append((*(values[name] for name in columns), previous, digest))
            previous = digest
        heads[line.id] = (VERIFY_EVENTS_PER_UNIT, previous)
    for start in range(0, len(rows), 10000):
        chunk = rows[start : start + 10000]
        env.cr.execute(
            SQL(
                "INSERT INTO rma_custody_event (sequence, line_id, rma_id, company_id, product_id, event_type, user_id,"
                " event_date, previous_hash, hash) SELECT * FROM unnest(%s::int[], %s::int[], %s::int[], %s::int[],"
                " %s::int[], %s::varchar[], %s::int[], %s::timestamp[], %s::varchar[], %s::varchar[])",
                *(list(column) for column in zip(*chunk, strict=True)),
            )
        )
    rma.line_ids._set_custody_heads(heads)
    return len(rows)


def run(env, measure):
    fixture = Fixture(env)
    fixture.cable = env["product.product"].create({"name": "Bench Cable", "is_storable": True})
    singles = [fixture.deliver(1) for _index in range(SINGLE_UNITS)]
    batch_native = fixture.deliver(BATCH)
    scan_rma = authorized_rma(env, fixture, fixture.deliver(SINGLE_UNITS))
    small_rma = authorized_rma(env, fixture, fixture.deliver(SMALL_BATCH))
    batch_rma = authorized_rma(env, fixture, fixture.deliver(BATCH))
    scan = env["rma.scan"]

    def native_one_by_one():
        for picking in singles:
            native_return(env, picking)

    def scan_one_by_one():
        for line in scan_rma.line_ids:
            scan.receive_scan(line.serial_number, rma_id=scan_rma.id, station="BENCH")

    measure("native return wizard, one unit (create + validate)", SINGLE_UNITS, native_one_by_one)
    measure("rma scan-receive, one unit per scan", SINGLE_UNITS, scan_one_by_one)
    measure(f"native return wizard, batch of {BATCH}", BATCH, lambda: native_return(env, batch_native))
    measure(
        f"rma batch receive of {SMALL_BATCH}",
        SMALL_BATCH,
        lambda: env["stock.picking"]._rma_receive(small_rma.line_ids, station="BENCH"),
    )
    measure(
        f"rma batch receive of {BATCH}",
        BATCH,
        lambda: env["stock.picking"]._rma_receive(batch_rma.line_ids, station="BENCH"),
    )
    assert set(batch_rma.line_ids.mapped("state")) == {"received"}

    print()
    scan_ms = measure.ratio("rma scan-receive, one unit per scan", "native return wizard, one unit (create + validate)")
    scan_queries = measure.ratio(
        "rma scan-receive, one unit per scan", "native return wizard, one unit (create + validate)", key="queries"
    )
    batch_ms = measure.ratio(f"rma batch receive of {BATCH}", f"native return wizard, batch of {BATCH}")
    measure.ratio(f"rma batch receive of {BATCH}", f"native return wizard, batch of {BATCH}", key="queries")
    small_queries = measure.per_unit(f"rma batch receive of {SMALL_BATCH}", "queries")
    big_queries = measure.per_unit(f"rma batch receive of {BATCH}", "queries")
    growth = (big_queries - small_queries) / small_queries
    print(f"  queries/unit {SMALL_BATCH} -> {BATCH} units: {small_queries:.2f} -> {big_queries:.2f} ({growth:+.1%})")

    count = seed_events(env, fixture)
    env.invalidate_all()
    started = time.perf_counter()
    result = env["rma.custody.event"]._check_integrity(env.company)
    elapsed = time.perf_counter() - started
    assert result["ok"], result
    rate = result["event_count"] / elapsed
    print(
        f"  integrity check: {result['event_count']} events ({count} seeded) in {elapsed * 1000:.0f} ms:"
        f" {rate:,.0f} events/s"
    )
    print(
        f"  targets: scan <= 0.5x native one-unit: ms {scan_ms:.2f} {'met' if scan_ms <= 0.5 else 'NOT met'},"
        f" queries {scan_queries:.2f} {'met' if scan_queries <= 0.5 else 'NOT met'};"
        f" batch <= 1.5x native batch: {batch_ms:.2f} {'met' if batch_ms <= 1.5 else 'NOT met'};"
        f" queries/unit flat within 10%: {'met' if growth <= 0.10 else 'NOT met'};"
        f" verification >= 50,000 events/s: {'met' if rate >= 50000 else 'NOT met'}"
    )
