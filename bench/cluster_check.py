"""What `make cluster` promises, checked against the live cluster over its proxy (not part of `make test`).

Usage (as root, the cluster running; `make cluster-check` does this):
    python bench/cluster_check.py --config odoo.conf --database DB --proxy http://127.0.0.1:8280
        [--replica-port 5433]

1. Read-only work runs on the replica: ``rma.order.api_status`` (``@api.readonly``) called N times over JSON-2 with
   the demo connector's API key; the replica's ``pg_stat_statements`` counts the calls of its query on ``rma_order``.
2. Writes go to the primary: a scan-receive through the proxy changes the unit on the primary (the replica is a hot
   standby: a write there would fail).
3. A read that must see its own write stays correct under replica lag: the replica's replay is paused
   (``pg_wal_replay_pause``); the KPI workbook and the KPI report of a report wizard just saved download and print
   (their read-only routes are served again on the primary); a unit is scanned: the scan's own answer and the
   Receive screen's refresh (``receive_open``, read/write on purpose) show it received, while a read-only
   ``web_read`` still sees it authorized (the lag is real); once replay resumes the replica agrees.
Prints each check and exits 1 if one fails.
"""

import argparse
import subprocess
import sys
import time

import psycopg2
import requests
from cluster import bench_concurrent  # bench/cluster.py: its loader of bench/concurrent.py

import odoo
from odoo import api
from odoo.modules.registry import Registry
from odoo.tools import config

CALLS = 20


def replica_calls(dsn, table):
    """The replica's count of executed statements reading TABLE (pg_stat_statements, the queries of our role)."""
    with psycopg2.connect(**dsn) as connection, connection.cursor() as cr:
        cr.execute(
            "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query LIKE %s AND dbid = "
            "(SELECT oid FROM pg_database WHERE datname = current_database())",
            [f'%"{table}"%'],
        )
        return int(cr.fetchone()[0])


def replica_admin(port, statement):
    """STATEMENT as the replica's superuser (the postgres user, through its socket)."""
    return subprocess.run(
        ["runuser", "-u", "postgres", "--", "psql", "-p", str(port), "-d", "postgres", "-tAc", statement],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def demo_key(database):
    registry = Registry(database)
    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {})
        answer = env["rma.demo"]._demo_api_key()
        cr.commit()
    if not answer:
        raise SystemExit(f"{database} has no demo web-shop connector: make cluster installs the demo data")
    return answer[0], answer[2]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--proxy", required=True)
    parser.add_argument("--replica-port", type=int, default=5433)
    args = parser.parse_args()
    config.parse_config(["-c", args.config, "-d", args.database, "--log-level=warn"])
    dsn = {
        "host": "127.0.0.1",
        "port": args.replica_port,
        "dbname": args.database,
        "user": config["db_user"],
        "password": config["db_password"],
    }
    failures = []

    def check(label, ok, detail):
        print(f"  {'ok  ' if ok else 'FAIL'} {label}: {detail}", flush=True)
        if not ok:
            failures.append(label)

    print(f"== make cluster against {args.proxy}, database {args.database}", flush=True)
    key, rma_id = demo_key(args.database)
    before = replica_calls(dsn, "rma_order")
    for _index in range(CALLS):
        response = requests.post(
            f"{args.proxy}/json/2/rma.order/api_status",
            json={"ids": [rma_id]},
            headers={"Authorization": f"bearer {key}", "X-Odoo-Database": args.database},
            timeout=30,
        )
        response.raise_for_status()
    counted = replica_calls(dsn, "rma_order") - before
    check(
        "api_status (@api.readonly) runs on the replica",
        counted >= CALLS,
        f"{CALLS} calls through the proxy, {counted} statements on rma_order counted by the replica",
    )

    concurrent = bench_concurrent()
    plan = concurrent.setup(args.database, 2, 1, company_name=f"RMA Cluster Check {int(time.time())}")
    client = concurrent.Client(args.proxy, args.database, plan["users"]["user"][0])
    (first_name, first_id, first_serial), (name, rma_id, serial) = plan["scans"][:2]

    client.call("rma.scan", "receive_scan", [first_name])
    _elapsed, answer, error = client.call(
        "rma.scan", "receive_scan", [first_serial], {"rma_id": first_id, "station": "CHECK"}
    )
    line_id = answer["lines"][0]["id"] if answer else None
    with psycopg2.connect(**dict(dsn, port=config["db_port"])) as connection, connection.cursor() as cr:
        cr.execute("SELECT state FROM rma_line WHERE id = %s", [line_id])
        primary_state = (cr.fetchone() or [None])[0]
    check("a scan writes on the primary", primary_state == "received", f"{error or 'scanned'}: {primary_state}")

    manager = concurrent.Client(args.proxy, args.database, plan["users"]["manager"][0])
    replica_admin(args.replica_port, "SELECT pg_wal_replay_pause()")
    try:
        # A manager saves the KPI report wizard and downloads its workbook at once: the read-only route finds no
        # report on the paused replica and is served again on the primary.
        _elapsed, report_id, error = manager.call("rma.kpi.report", "create", [{}])
        workbook = manager.session.get(f"{args.proxy}/rma_recovery/kpi_report/{report_id}/xlsx", timeout=60)
        check(
            "under replica lag, the workbook of a KPI report saved a moment ago downloads",
            workbook.status_code == 200 and workbook.content[:2] == b"PK",
            f"{error or 'saved'}, HTTP {workbook.status_code}, {len(workbook.content)} bytes",
        )
        printed = manager.session.get(f"{args.proxy}/report/html/rma_recovery.report_rma_kpi/{report_id}", timeout=60)
        check(
            "under replica lag, the same report prints (Odoo's read-only report route)",
            printed.status_code == 200,
            f"HTTP {printed.status_code}, {len(printed.content)} bytes",
        )
        _elapsed, opened, error = client.call("rma.scan", "receive_open", [rma_id])
        line_id = opened["lines"][0]["id"]
        client.call("rma.scan", "receive_scan", [name])
        _elapsed, answer, error = client.call("rma.scan", "receive_scan", [serial], {"rma_id": rma_id})
        scanned = answer and answer["lines"][0]["state"]
        _elapsed, refreshed, _error = client.call("rma.scan", "receive_open", [rma_id])
        _elapsed, read, _error = client.call("rma.line", "web_read", [[line_id]], {"specification": {"state": {}}})
        check(
            "under replica lag, the scan's answer and the screen's refresh show the unit received",
            scanned == "received" and refreshed["lines"][0]["state"] == "received",
            f"scan answer {scanned}, receive_open {refreshed['lines'][0]['state']}",
        )
        check(
            "under replica lag, a read-only web_read is served by the (paused) replica",
            read[0]["state"] == "authorized",
            f"web_read sees {read[0]['state']} while the replay is paused",
        )
    finally:
        replica_admin(args.replica_port, "SELECT pg_wal_replay_resume()")
    for _attempt in range(50):
        _elapsed, read, _error = client.call("rma.line", "web_read", [[line_id]], {"specification": {"state": {}}})
        if read[0]["state"] == "received":
            break
        time.sleep(0.1)
    check("once replay resumes, the replica agrees", read[0]["state"] == "received", f"web_read: {read[0]['state']}")
    print(f"  {len(failures)} failed checks", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
