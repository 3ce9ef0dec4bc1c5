"""16 scanners and a manager's dashboard over `make cluster`'s proxy, then the same against one Odoo server.

Usage (the cluster running; `make bench-cluster` starts it and runs this):
    python bench/cluster.py --config odoo.conf --database DB --proxy http://127.0.0.1:8280
        --single http://127.0.0.1:8270 [--scanners 16] [--seconds 60] [--refresh 5]

Set-up: bench/concurrent.py's fixture (committed, in a company of its own): delivered serial laptops, one authorized
RMA each, a Returns User per scanner and Returns Managers. Then, for each target (the proxy in front of both servers,
then one server alone, its two workers):
  - every scanner receives 2 units, not measured (each worker warmed up);
  - SCANNERS scanners receive distinct units back to back for SECONDS (the RMA number, then the serial: the Receive
    screen's two calls), while a manager refreshes the Returns dashboard every REFRESH seconds (the dashboard's 11
    pivots, as its spreadsheet asks them: ``formatted_read_group``, read-only, served by the replica).
It prints, per target: units received per second, the scan's median and p95, failed calls, the dashboard refresh's
p95, and the machine's CPU busy share (/proc/stat: every process, the other servers' and the clients' too); then
the ratio of the two throughputs and how close each is to the CPU's ceiling.
"""

import argparse
import importlib.util
import json
import os
import statistics
import sys
import threading
import time

from odoo.tools import config

WARM_UP = 2


def bench_concurrent():
    """bench/concurrent.py (its scanner client and fixture), loaded by path: imported as ``concurrent`` it would take
    the standard library's package name."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "concurrent.py")
    spec = importlib.util.spec_from_file_location("rma_bench_concurrent", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def dashboard_calls():
    """The Returns dashboard's pivots as its spreadsheet asks them: (model, domain, groupby, aggregates), over the
    default period (the last 90 days) of its date filter."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "files", "returns_dashboard.json")
    with open(path) as file:
        data = json.load(file)
    period = data["globalFilters"][0]["id"]
    since = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 90 * 86400))
    calls = []
    for pivot in data["pivots"].values():
        # The trend pivots have no period: they show every month.
        matching = pivot["fieldMatching"].get(period)
        period_domain = [[matching["chain"], ">=", since]] if matching else []
        groupby = [
            f"{row['fieldName']}:{row['granularity']}" if row.get("granularity") else row["fieldName"]
            for row in pivot["rows"]
        ]
        aggregates = [f"{measure['fieldName']}:{measure.get('aggregator', 'sum')}" for measure in pivot["measures"]]
        calls.append((pivot["model"], [*pivot["domain"], *period_domain], groupby, aggregates))
    return calls


def scanner(client, units, deadline, latencies, failures, received):
    for rma_name, rma_id, serial in units:
        if time.perf_counter() >= deadline:
            return
        for code, kwargs in ((rma_name, {}), (serial, {"rma_id": rma_id, "station": "CLUSTER"})):
            elapsed, _result, error = client.call("rma.scan", "receive_scan", [code], kwargs)
            if error:
                failures.append(error)
                break
            if code == serial:
                latencies.append(elapsed)
                received.append(1)


def manager(client, calls, deadline, every, refreshes, failures):
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        for model, domain, groupby, aggregates in calls:
            _elapsed, _result, error = client.call(
                model, "formatted_read_group", [domain], {"groupby": groupby, "aggregates": aggregates}
            )
            if error:
                failures.append(error)
        refreshes.append((time.perf_counter() - started) * 1000)
        time.sleep(max(0.0, every - (time.perf_counter() - started)))


def cpu_by_role():
    """CPU seconds used so far by the live processes, by role: the cluster's Odoo servers, its nginx, PostgreSQL's
    primary and replica, this bench's clients, and the rest of the machine."""
    per_second = os.sysconf("SC_CLK_TCK")
    roles = dict.fromkeys(("odoo", "nginx", "primary", "replica", "clients", "other"), 0.0)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                command = cmdline.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if int(entry) == os.getpid():
            role = "clients"
        elif "odoo-bin" in command and "/cluster/odoo-" in command:
            role = "odoo"
        elif command.startswith("nginx"):
            role = "nginx"
        elif command.startswith("postgres") or command.split(" ", 1)[0].endswith("/postgres"):
            # Debian names its cluster's processes after it ("postgres: 15/main: ..."); the replica has no name.
            role = "primary" if "/main" in command else "replica"
        else:
            role = "other"
        roles[role] += (int(fields[11]) + int(fields[12])) / per_second  # utime + stime
    return roles


def p95(values):
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else (values or [0.0])[0]


def run(concurrent, label, base_url, database, plan, units, args):
    """One target: the warm-up, then SCANNERS scanners and the manager for SECONDS. Returns units/s."""
    clients = [concurrent.Client(base_url, database, login) for login in plan["users"]["user"][: args.scanners]]
    boss = concurrent.Client(base_url, database, plan["users"]["manager"][0])
    warm, units = units[: WARM_UP * args.scanners], units[WARM_UP * args.scanners :]
    concurrent.warm_up(clients, warm)
    per_scanner = len(units) // args.scanners
    latencies, failures, received, refreshes, dashboard_failures = [], [], [], [], []
    busy_before, total_before = concurrent.machine_cpu()
    roles_before = cpu_by_role()
    started = time.perf_counter()
    deadline = started + args.seconds
    threads = [
        threading.Thread(
            target=scanner,
            args=(client, units[i * per_scanner : (i + 1) * per_scanner], deadline, latencies, failures, received),
        )
        for i, client in enumerate(clients)
    ]
    dashboard = (boss, dashboard_calls(), deadline, args.refresh, refreshes, dashboard_failures)
    threads.append(threading.Thread(target=manager, args=dashboard))
    for thread in threads:
        thread.start()
    for thread in threads[:-1]:  # the scanners: the throughput is over their time, the last one's end
        thread.join(timeout=args.seconds + 300)
    elapsed = time.perf_counter() - started
    busy_after, total_after = concurrent.machine_cpu()
    roles = {role: used - roles_before.get(role, 0.0) for role, used in cpu_by_role().items()}
    threads[-1].join(timeout=args.seconds + 300)
    busy = (busy_after - busy_before) / (total_after - total_before)
    cpu_per_scan = (busy_after - busy_before) / max(len(received), 1)
    throughput = len(received) / elapsed
    print(
        f"  {label:<32} {throughput:6.2f} scans/s ({len(received)} units in {elapsed:.0f} s)"
        f"  median {statistics.median(latencies or [0]):6.0f} ms  p95 {p95(latencies):6.0f} ms"
        f"  failed {len(failures) + len(dashboard_failures)}"
        f"  dashboard refresh p95 {p95(refreshes):6.0f} ms ({len(refreshes)} refreshes)"
        f"  machine busy {busy:.0%}, CPU per scan {cpu_per_scan * 1000:.0f} ms",
        flush=True,
    )
    busy_seconds = busy_after - busy_before
    print(
        "      CPU seconds: "
        + ", ".join(f"{role} {used:.0f} s" for role, used in roles.items())
        + f" (machine {busy_seconds:.0f} s busy of {total_after - total_before:.0f} s; processes that ended uncounted)",
        flush=True,
    )
    for message in sorted(set(failures + dashboard_failures))[:3]:
        print(f"      failure: {message.splitlines()[0][:150]}", flush=True)
    if len(received) >= args.scanners * per_scanner:
        print("      (the scanners ran out of units before the end: raise --units)", flush=True)
    return throughput, busy, len(failures) + len(dashboard_failures)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--proxy", required=True, help="the cluster's proxy")
    parser.add_argument("--single", required=True, help="one of its Odoo servers")
    parser.add_argument("--scanners", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--refresh", type=float, default=5, help="seconds between two dashboard refreshes")
    parser.add_argument("--units", type=int, default=60, help="units each scanner has per run (at most)")
    args = parser.parse_args()
    config.parse_config(["-c", args.config, "-d", args.database, "--log-level=warn"])
    concurrent = bench_concurrent()
    per_run = args.scanners * (args.units + WARM_UP)
    # concurrent.setup(clients=C, units=U) authorizes 5C + U(1 + 3C) units to scan; two runs are needed.
    units = -(-(2 * per_run - 5 * args.scanners) // (1 + 3 * args.scanners))
    started = time.perf_counter()
    plan = concurrent.setup(args.database, args.scanners, units, company_name=f"RMA Cluster Bench {int(time.time())}")
    print(
        f"== {args.scanners} scanners back to back for {args.seconds:g} s and a dashboard every {args.refresh:g} s"
        f" (set-up {time.perf_counter() - started:.0f} s, {os.cpu_count()} CPUs)",
        flush=True,
    )
    scans = plan["scans"]
    cluster, cluster_busy, cluster_failed = run(
        concurrent, "proxy, 2 servers x 2 workers", args.proxy, args.database, plan, scans[:per_run], args
    )
    single, single_busy, single_failed = run(
        concurrent, "1 server, 2 workers", args.single, args.database, plan, scans[per_run : 2 * per_run], args
    )
    print(
        f"  ratio 2 servers / 1 server: {cluster / single:.2f}; failed calls {cluster_failed + single_failed}"
        f" (target 0); the CPU's ceiling at each run's CPU per scan: {cluster / cluster_busy:.2f} and"
        f" {single / single_busy:.2f} scans/s ({cluster_busy:.0%} and {single_busy:.0%} of it reached)",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
