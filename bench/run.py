"""Run one benchmark script against an installed database and print its figures.

Usage: python bench/run.py --config odoo.conf --database DB bench/bench_x.py

The script defines ``run(env, measure)``; ``measure(label, units, fn)`` times ``fn`` and counts its SQL
queries, then prints milliseconds and queries per unit. Everything runs in one transaction that is rolled
back at the end, so benchmarks leave the database as they found it.
"""

import argparse
import importlib.util
import os
import sys
import time

import odoo
from odoo import api
from odoo.modules.registry import Registry
from odoo.tools import config


class Measurements:
    def __init__(self, env):
        self.env = env
        self.results = {}

    def __call__(self, label, units, function):
        env = self.env
        env.flush_all()
        queries_before = env.cr.sql_log_count
        started = time.perf_counter()
        result = function()
        env.flush_all()
        elapsed_ms = (time.perf_counter() - started) * 1000
        self.record(label, units, elapsed_ms, env.cr.sql_log_count - queries_before)
        return result

    def record(self, label, units, elapsed_ms, queries):
        """Record and print figures measured by the script itself (e.g. two flows timed in alternating blocks)."""
        self.results[label] = {"units": units, "ms": elapsed_ms, "queries": queries}
        print(
            f"  {label:<52} {units:>5} units  {elapsed_ms:>10.1f} ms  {elapsed_ms / units:>8.2f} ms/unit"
            f"  {queries:>7} queries  {queries / units:>7.2f} queries/unit",
            flush=True,
        )

    def per_unit(self, label, key="ms"):
        result = self.results[label]
        return result[key] / result["units"]

    def ratio(self, label, baseline, key="ms"):
        value = self.per_unit(label, key) / self.per_unit(baseline, key)
        print(f"  ratio {key}/unit  {label}  vs  {baseline}: {value:.2f}", flush=True)
        return value


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("script")
    args = parser.parse_args()
    config.parse_config(["-c", args.config, "-d", args.database, "--log-level=warn"])
    sys.path.insert(0, os.path.dirname(os.path.abspath(args.script)))  # the scripts share bench/common.py
    spec = importlib.util.spec_from_file_location("rma_bench_script", args.script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    registry = Registry(args.database)
    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": False})
        print(f"== {module.__doc__.strip().splitlines()[0]}", flush=True)
        try:
            module.run(env, Measurements(env))
        finally:
            cr.rollback()
    return 0


if __name__ == "__main__":
    sys.exit(main())
