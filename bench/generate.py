"""Generate a depot's returns history, seeded and reproducible, through the addon's own batch paths.

Usage: python bench/generate.py --config odoo.conf --database DB [--rmas 200] [--seed 42] [--months 36]
(or `make generate`, RMA_GEN_DB and RMA_GEN_RMAS). Unlike the benchmarks, it commits what it generates.

NOTES (issue 22 §1, state of this generator)
- How: two new companies (generic chart, perpetual valuation, average cost) with 3 and 2 warehouses, serial
  products, customers; then month by month, under a frozen clock moved step by step (freezegun's ``move_to``), the
  real paths in batches: stock bought in (one receipt a month and warehouse) and delivered to the customers, RMAs
  requested, flags overridden, authorized (some rejected or cancelled), received (``stock.picking._rma_receive``),
  dock and shelf scans (``rma.custody.event._log``) to about 10 events a unit, inspected, disposed through the
  disposition wizard in batches under the background threshold, refurbishments finished. Recent months stop
  earlier in the workflow, so every state is present. Nothing is written in SQL: every move, entry, custody event
  and seal is the addon's, so the invariants hold by construction and are checked at the end with the addon's own
  code: each company's ``_check_integrity`` (custody chains and seals, after ``rma.custody.seal._seal``) and, for
  every step of the returns, the change of ``stock_value()`` equal to that of ``stock_accounting_value()`` per
  stock valuation account (the set-up stock comes in and leaves unbilled and uninvoiced, which posts nothing in
  Odoo 19's perpetual valuation, as in the demo: the returns' steps are compared, as the accounting contract does).
- Deterministic: the same seed on the same database state gives the same records and hashes (ids enter the hashes);
  on another database, the same units, events and dates (``signature``, compared by tests/test_rma_generate.py).
- Findings at the per-step check (``step_gaps``, one entry per step and account where stock value and ledger moved
  differently), both fixed: (1) with FIFO, a disposition step of several units differed by 0.01: Odoo valued each
  unit's move to the cent from a receipt whose unit cost is not whole cents (2,099.73 for 4), while the product's
  stock value keeps the fractions and is rounded once; the addon now gives the units of a step, together, the change
  of the rounded stock value (stock.move._rma_round_to_value_change, tests/test_rma_valuation_rounding.py). (2) With
  ``--cost-method average``, the first month's receipt (+63.08 on 110100 in the 30-RMA test) and refurbishments
  finished (-48.92): the generator's clock, not the addon: each warehouse's month ran from the month's first day
  after the previous warehouse's had reached its 25th, so moves were created out of date order and Odoo's average
  cost, which replays a product's moves by date, no longer matched the values given at the time. The warehouses'
  months now run in step (``_in_step``: every warehouse's phase before the next phase), the clock never goes back.
- Missing: repair orders of REP units are not completed (they stay In Repair), certificates of sanitization are not
  performed/validated, no remedies (refunds, replacements), no customer e-mails; create_date/write_date are the
  real time (the database's clock), every business date is the history's.
- Timings (2 cores shared with other runs, `make generate`, 2026-12-05): 2,000 RMAs = 5,710 units, 55,216 custody
  events (9.7 a unit) in 1,087 s after the install: 5.3 units/s, slowly falling (6/s in the first months); every
  invariant held (chains, seals, stock = ledger per step). Extrapolated: 20,000 RMAs about 3 h, 100,000 RMAs
  (300,000 units, 3M events) about 16 h or more: not run. The ORM paths cost about 190 ms a unit end to end; the
  issue's size needs the bulk of the closed history written in SQL (custody rows hashed with custody_hash as
  bench_custody_seal.py does, moves and entries as these paths write them), keeping these paths for the recent
  months: not done.
- States at 2,000 RMAs: closed 2,847, ready 1,446, in_progress 834 (REP never finished), rejected 202, cancel 117,
  inspection 80, received 69, draft 60, authorized 55; codes RTS 1,554, REF 1,498, REC 804, REP 782, PH 489, SD 0
  (no finding suggests SD without a data-bearing device: add one with its certificate).
"""

import argparse
import importlib.util
import os
import random
import sys
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from datetime import datetime, timedelta

from freezegun import freeze_time

import odoo
from odoo import Command, api
from odoo.modules.registry import Registry
from odoo.tools import SQL, config


def _sibling(name):
    """A module of bench/ (the scripts are loaded by path, not as a package)."""
    spec = importlib.util.spec_from_file_location(name, os.path.join(os.path.dirname(__file__), f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


history_clone = _sibling("history_clone")

START = datetime(2024, 1, 1, 8, 0, 0)
# The real clock, out of freezegun's reach (it replaces the time functions it finds as module attributes).
_WALL_CLOCK = (time.perf_counter,)
WAREHOUSES_PER_COMPANY = (3, 2)
PRODUCTS = (("Gen Laptop 14", 620.0), ("Gen Laptop 16", 890.0), ("Gen Tablet 11", 340.0), ("Gen Dock", 120.0))
CUSTOMERS_PER_COMPANY = 40
UNITS_PER_RMA = (1, 2, 3, 4, 5, 6)
UNITS_WEIGHTS = (25, 20, 15, 15, 12, 13)  # about 3 units an RMA: 300,000 units for 100,000 RMAs
# Inspection findings, by the code their grade suggests (RTS, REF, REP, PH, REC, SD) and how often.
FINDINGS = (
    ("a", "pass", False, 30),
    ("b", "pass", False, 20),
    ("b", "fail", True, 15),
    ("salvage", "not_testable", False, 10),
    ("d", "pass", False, 15),
    ("c", "pass", False, 10),
)
SCANS_PER_UNIT = 5  # dock, shelf and bench scans, on top of the workflow's own events: about 10 events a unit
TEMPLATE_MONTHS = 2  # at scale (template_rmas): the months written through the ORM, then cloned
RECENT_MONTHS = 2  # and the last months, written through the ORM again (every state of the workflow)
RESALE_AGE = 3  # months after which the remarketed units of a month are sold
DISPOSE_CHUNK = 250  # under the company's background threshold (500 units): the wizard confirms at once


def _months(rng, rmas, months):
    """How many RMAs each month: growing volume (a depot taking on programmes), seeded."""
    weights = [1.0 + index / months for index in range(months)]
    counts = Counter(rng.choices(range(months), weights=weights, k=rmas))
    return [counts.get(index, 0) for index in range(months)]


class Generator:
    def __init__(
        self, env, rmas=200, seed=42, months=36, log=None, cost_method="fifo", template_rmas=0, recent_rmas=None
    ):
        self.rng = random.Random(seed)
        self.rmas, self.seed, self.months, self.cost_method = rmas, seed, months, cost_method
        # At scale: the first TEMPLATE_MONTHS through the ORM with template_rmas, copied in SQL (history_clone.py)
        # into the months up to the last RECENT_MONTHS, which the ORM writes again with recent_rmas.
        self.template_rmas = template_rmas
        self.recent_rmas = template_rmas if recent_rmas is None else recent_rmas
        self.clones = []  # (template product, [its copies]) once cloned
        self.log = log or (lambda message: print(message, flush=True))
        self.env = env
        self.stats = Counter()
        self.deltas = defaultdict(
            lambda: defaultdict(lambda: {"stock": 0.0, "ledger": 0.0})
        )  # company -> account -> [stock, ledger] change
        self.unit_count = 0
        self.step_gaps = []  # (company, month, step, account, stock change - ledger change)

    # ------------------------------------------------------------------
    # Set-up: companies, warehouses, products, customers
    # ------------------------------------------------------------------
    def _setup(self):
        env = self.env
        run = env["res.company"].search_count([("name", "=like", "RMA Depot %")]) // 2 + 1
        self.manager = env.ref("base.user_admin")
        self.manager.group_ids = [
            Command.link(env.ref(xmlid).id)
            for xmlid in (
                "rma_recovery.group_rma_manager",
                "stock.group_stock_manager",
                "account.group_account_manager",
            )
        ]
        self.companies = env["res.company"]
        self.warehouses = {}
        for index, count in enumerate(WAREHOUSES_PER_COMPANY):
            company = env["res.company"].create({"name": f"RMA Depot {'AB'[index]} {run}"})
            env["account.chart.template"]._load("generic_coa", company, install_demo=False)
            company.inventory_valuation = "real_time"
            self.manager.company_ids = [Command.link(company.id)]
            self.companies |= company
            company_env = self._env(company)
            warehouses = company_env["stock.warehouse"].search([("company_id", "=", company.id)])
            for number in range(len(warehouses), count):
                warehouses |= company_env["stock.warehouse"].create(
                    {"name": f"Depot {'AB'[index]}{number + 1}", "code": f"D{'AB'[index]}{number + 1}"}
                )
            self.warehouses[company] = warehouses[:count]
        self.category = env["product.category"].create(
            {"name": f"RMA Depot {run}", "property_valuation": "real_time", "property_cost_method": self.cost_method}
        )
        self.products = env["product.product"].create(
            [
                {
                    "name": name,
                    "is_storable": True,
                    "tracking": "serial",
                    "standard_price": price,
                    "list_price": price * 1.4,
                    "categ_id": self.category.id,
                }
                for name, price in PRODUCTS
            ]
        )
        # Costs and valuation are per company.
        self.prices = {product: price for product, (_name, price) in zip(self.products, PRODUCTS, strict=True)}
        for company in self.companies:
            self.category.with_company(company).write(
                {"property_valuation": "real_time", "property_cost_method": self.cost_method}
            )
            for product, price in self.prices.items():
                product.with_company(company).standard_price = price
        self.customers = {
            company: env["res.partner"].create(
                [
                    {"name": f"Customer {'AB'[index]}{number:03d}", "is_company": True, "company_id": company.id}
                    for number in range(CUSTOMERS_PER_COMPANY)
                ]
            )
            for index, company in enumerate(self.companies)
        }
        self.reasons = {
            company: env["rma.reason"].create(
                [
                    {"name": name, "code": f"{code}{run}", "is_proof_required": False, "company_id": company.id}
                    for name, code in (
                        ("Defective", "GDEF"),
                        ("Damaged in transit", "GDMG"),
                        ("Not as ordered", "GWRG"),
                    )
                ]
            )
            for company in self.companies
        }
        self.grades = {code: env.ref(f"rma_recovery.rma_grade_{code}") for code in ("a", "b", "c", "d", "salvage")}
        self.failure = env.ref("rma_recovery.rma_failure_keyboard")
        self.prefix = f"G{run}"

    def _env(self, company):
        return self.env(user=self.manager, context={"allowed_company_ids": [company.id], "tracking_disable": True})

    # ------------------------------------------------------------------
    # The months
    # ------------------------------------------------------------------
    def run(self):
        started = _WALL_CLOCK[0]()
        per_month = _months(self.rng, self.rmas, self.months)
        shifts = []
        if self.template_rmas:
            per_month, shifts = self._scale_plan(per_month)
        # The set-up a day before the history: Odoo's average cost counts the moves dated after the product's cost.
        with freeze_time(START - timedelta(days=1)) as clock:
            self.clock = clock
            self._setup()
            self.env.flush_all()
            before = history_clone.max_ids(self.env.cr) if shifts else None
            self.log(f"set-up: {_WALL_CLOCK[0]() - started:.1f} s")
            for month, count in enumerate(per_month):
                if count is None:
                    continue  # a cloned month
                month_start = START + timedelta(days=round(month * 30.44))
                plan = defaultdict(list)  # warehouse -> [units of each RMA]
                for _index in range(count):
                    company = self.companies[0] if self.rng.random() < 0.6 else self.companies[1]
                    warehouse = self.rng.choice(self.warehouses[company])
                    plan[warehouse].append(self.rng.choices(UNITS_PER_RMA, weights=UNITS_WEIGHTS)[0])
                self._in_step(
                    [
                        self._month(warehouse, month, month_start, plan[warehouse])
                        for warehouse in sorted(plan, key=lambda record: record.id)
                    ]
                )
                self.env.flush_all()
                self._commit()
                self.log(
                    f"month {month + 1}/{self.months}: {count} RMAs, {self.unit_count} units so far,"
                    f" {_WALL_CLOCK[0]() - started:.0f} s"
                )
                if shifts and month == TEMPLATE_MONTHS - 1:
                    self._clone(before, shifts, started)
            clock.move_to(START + timedelta(days=round(self.months * 30.44)))
            for company in self.companies:
                self.env["rma.custody.seal"]._seal(company)
        self.stats["seconds"] = round(_WALL_CLOCK[0]() - started, 1)
        return self

    def _commit(self):
        if self.env.context.get("rma_generate_commit"):
            self.env.cr.commit()

    def _scale_plan(self, per_month):
        """RMAs per month written through the ORM (None: a cloned month), and the days each clone moves.

        The template months get ``template_rmas``, the recent months ``recent_rmas``, both shared as the plan's
        growth shares them; the rest of the plan is met with copies of the template, each slot of TEMPLATE_MONTHS
        months getting copies in proportion to its planned RMAs."""
        months, slots = self.months, (self.months - RECENT_MONTHS) // TEMPLATE_MONTHS
        if slots < 1 or self.template_rmas + self.recent_rmas > self.rmas:
            raise ValueError("cloning needs more months than the template's and the recent ones, and more RMAs")

        def share(total, weights):
            exact = [total * weight / sum(weights) for weight in weights]
            counts = [int(value) for value in exact]
            for index in sorted(range(len(exact)), key=lambda i: counts[i] - exact[i])[: total - sum(counts)]:
                counts[index] += 1
            return counts

        plan = [None] * months
        plan[:TEMPLATE_MONTHS] = share(self.template_rmas, per_month[:TEMPLATE_MONTHS])
        plan[months - RECENT_MONTHS :] = share(self.recent_rmas, per_month[months - RECENT_MONTHS :])
        copies = round((self.rmas - self.template_rmas - self.recent_rmas) / self.template_rmas)
        weights = [sum(per_month[slot * TEMPLATE_MONTHS : (slot + 1) * TEMPLATE_MONTHS]) for slot in range(slots)]
        shifts = [
            round(slot * TEMPLATE_MONTHS * 30.44)
            for slot, count in enumerate(share(copies, weights))
            for _copy in range(count)
        ]
        return plan, shifts

    def _clone(self, before, shifts, started):
        """Copy the template months into the history (bench/history_clone.py) and commit."""
        env = self.env
        env.flush_all()
        after = history_clone.max_ids(env.cr)
        # The template's valuation and ledger when copied: each copy must have exactly these (checked at the end).
        self.template_values = {company.id: self._valuation(company, self.products) for company in self.companies}
        cloner = history_clone.HistoryCloner(env, before, after, self.products, shifts, log=self.log)
        counts = cloner.run()
        self.stats["rmas"] += counts["rma_order"]
        self.unit_count += counts["rma_line"]
        self.stats["clones"] = len(shifts)
        low, high = cloner.ranges["product_product"]
        span, delta = high - low, cloner.bases["product_product"] - low
        self.clones = [
            (product, env["product.product"].browse([product.id + delta + j * span for j in range(len(shifts))]))
            for product in self.products
        ]
        self._commit()
        self.log(
            f"cloned the template {len(shifts)} times: {counts['rma_order']:,} RMAs, {counts['rma_line']:,} units,"
            f" {counts['rma_custody_event']:,} events, {_WALL_CLOCK[0]() - started:.0f} s"
        )

    def _at(self, when):
        self.clock.move_to(when)

    def _in_step(self, months):
        """The warehouses' months in step, each phase of every warehouse before the next phase: the clock never goes
        back. Odoo values a product's moves in the order of their dates (its average cost replays them, its FIFO
        queue stacks them): a warehouse's month generated after another's, back at the month's first day, left stock
        values that its ledger did not follow (with average cost, +63.08 at a receipt and -48.92 at refurbishments
        finished in the 30-RMA test). ``months``: generators of _month, each yielding the time of its next phase."""
        pending = []
        for index, phases in enumerate(months):
            when = next(phases, None)
            if when is not None:
                pending.append((when, index, phases))
        while pending:
            pending.sort(key=lambda item: item[:2])
            when, index, phases = pending.pop(0)
            self._at(when)
            when = next(phases, None)
            if when is not None:
                pending.append((when, index, phases))

    def _month(self, warehouse, month, month_start, unit_counts):
        """A warehouse's month, phase by phase: yields the time of each phase, run when the clock is there."""
        rng, company = self.rng, warehouse.company_id
        env = self._env(company)
        age = self.months - 1 - month  # months before the end of the history
        # Stock in and delivered: one delivery per customer, the units each RMA will return.
        yield month_start
        customers = self.customers[company]
        rma_specs = []
        for units in unit_counts:
            customer = rng.choice(customers)
            products = [rng.choice(self.products) for _unit in range(units)]
            serials = [f"{self.prefix}{warehouse.code}-{self.unit_count + number:07d}" for number in range(units)]
            self.unit_count += units
            rma_specs.append((customer, list(zip(products, serials, strict=True))))
        self._deliver(env, warehouse, rma_specs)

        yield month_start + timedelta(days=3, hours=2)
        rmas = env["rma.order"].create(
            [
                {
                    "partner_id": customer.id,
                    "warehouse_id": warehouse.id,
                    "reason_id": rng.choice(self.reasons[company]).id,
                    "line_ids": [
                        Command.create({"product_id": product.id, "serial_number": serial}) for product, serial in units
                    ],
                }
                for customer, units in rma_specs
            ]
        )
        # Each RMA's fate: how far it went, by the age of its month.
        fates = defaultdict(lambda: env["rma.order"])
        for rma in rmas:
            roll = rng.random()
            if roll < 0.03:
                fate = "rejected"
            elif roll < 0.05:
                fate = "cancel"
            elif age == 0:
                fate = rng.choice(("draft", "authorized", "received", "inspected", "disposed"))
            elif age == 1:
                fate = rng.choice(("received", "inspected", "disposed", "disposed", "finished"))
            else:
                fate = "finished"
            fates[fate] |= rmas.browse(rma.id)
        yield month_start + timedelta(days=4, hours=1)
        if fates["rejected"]:
            fates["rejected"].action_reject("Outside the programme's terms (generated).")
        if fates["cancel"]:
            fates["cancel"].action_cancel()
        order = ("authorized", "received", "inspected", "disposed", "finished")
        to_authorize = rmas.browse([rma.id for fate in order for rma in fates[fate]])
        flagged = to_authorize.line_ids.filtered("has_flag")
        if flagged:
            flagged._action_override("Known customer, checked by phone (generated).")
        to_authorize.action_authorize()
        self.stats["rmas"] += len(rmas)

        to_receive = rmas.browse([rma.id for fate in order[1:] for rma in fates[fate]])
        units = to_receive.line_ids
        if units:
            yield month_start + timedelta(days=8, hours=3)
            with self._step(company, month, "receipt"):
                env["stock.picking"]._rma_receive(units, station=f"DOCK-{warehouse.code}")
            for scan in range(SCANS_PER_UNIT):
                yield month_start + timedelta(days=8, hours=4 + scan)
                env["rma.custody.event"]._log(
                    units,
                    "scan",
                    station=f"{'DOCK' if scan < 2 else 'SHELF'}-{warehouse.code}",
                )
        units = rmas.browse([rma.id for fate in order[2:] for rma in fates[fate]]).line_ids
        if units:
            yield month_start + timedelta(days=10, hours=2)
            self._inspect(units)
        units = rmas.browse([rma.id for fate in order[3:] for rma in fates[fate]]).line_ids
        if units:
            yield month_start + timedelta(days=14, hours=5)
            for index in range(0, len(units), DISPOSE_CHUNK):
                with self._step(company, month, "disposition"):
                    self._dispose(env, units[index : index + DISPOSE_CHUNK])
        units = fates["finished"].line_ids.filtered(lambda unit: unit.state == "in_progress" and not unit.repair_id)
        if units:
            yield month_start + timedelta(days=24, hours=6)
            with self._step(company, month, "refurbishment finished"):
                units.action_finish_refurbishment()
        repairs = fates["finished"].line_ids.filtered(lambda unit: unit.state == "in_progress").repair_id
        if repairs:
            yield month_start + timedelta(days=25, hours=3)
            with self._step(company, month, "repairs finished"):
                repairs.action_repair_start()
                repairs.action_repair_end()
        # Months old, the remarketed and restocked units are sold: a depot's history is mostly closed and its stock
        # turns over, as a real one's does.
        units = fates["finished"].line_ids.filtered(
            lambda unit: (
                unit.state == "ready"
                or (
                    unit.state == "closed"
                    and unit.disposition_treatment == "restock"
                    and unit.location_id.usage == "internal"
                )
            )
        )
        if units and age >= RESALE_AGE:
            yield month_start + timedelta(days=27, hours=2)
            self._resell(env, warehouse, units)

    def _resell(self, env, warehouse, units):
        """Remarketed and restocked units sold: a delivery from their stock to a customer, Odoo's own flow (the addon
        closes the remarketed units and records their shipment)."""
        customer_location = self.env.ref("stock.stock_location_customers")
        groups = sorted(units.grouped("location_id").items(), key=lambda item: item[0].id)
        pickings = env["stock.picking"].create(
            [
                {
                    "partner_id": self.rng.choice(self.customers[warehouse.company_id]).id,
                    "picking_type_id": warehouse.out_type_id.id,
                    "location_id": location.id,
                    "location_dest_id": customer_location.id,
                    "move_ids": [
                        Command.create(
                            {
                                "product_id": product.id,
                                "product_uom_qty": len(product_units),
                                "location_id": location.id,
                                "location_dest_id": customer_location.id,
                            }
                        )
                        for product, product_units in sorted(
                            location_units.grouped("product_id").items(), key=lambda item: item[0].id
                        )
                    ],
                }
                for location, location_units in groups
            ]
        )
        pickings.action_confirm()
        pickings.move_ids.move_line_ids.unlink()
        lots = {(unit.location_id.id, unit.product_id.id): [] for unit in units}
        for unit in units:
            lots[unit.location_id.id, unit.product_id.id].append(unit.lot_id.id)
        env["stock.move.line"].create(
            [
                {
                    "move_id": move.id,
                    "picking_id": move.picking_id.id,
                    "product_id": move.product_id.id,
                    "lot_id": lot_id,
                    "quantity": 1,
                    "location_id": move.location_id.id,
                    "location_dest_id": move.location_dest_id.id,
                }
                for move in pickings.move_ids
                for lot_id in lots[move.location_id.id, move.product_id.id]
            ]
        )
        pickings.move_ids.picked = True
        pickings.with_context(skip_sms=True, skip_backorder=True)._action_done()
        self.stats["resold"] += len(units)

    def _deliver(self, env, warehouse, rma_specs):
        """The units bought in (one receipt, a move per product) and delivered to their customers, one picking each."""
        by_product = defaultdict(list)
        for _customer, units in rma_specs:
            for product, serial in units:
                by_product[product].append(serial)
        supplier_location = self.env.ref("stock.stock_location_suppliers")
        receipt = env["stock.picking"].create(
            {
                "picking_type_id": warehouse.in_type_id.id,
                "location_id": supplier_location.id,
                "location_dest_id": warehouse.lot_stock_id.id,
                "move_ids": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "product_uom_qty": len(serials),
                            "price_unit": self.prices[product],
                            "location_id": supplier_location.id,
                            "location_dest_id": warehouse.lot_stock_id.id,
                        }
                    )
                    for product, serials in sorted(by_product.items(), key=lambda item: item[0].id)
                ],
            }
        )
        receipt.action_confirm()
        receipt.move_ids.move_line_ids.unlink()
        env["stock.move.line"].create(
            [
                {
                    "move_id": move.id,
                    "picking_id": receipt.id,
                    "product_id": move.product_id.id,
                    "lot_name": serial,
                    "quantity": 1,
                    "location_id": move.location_id.id,
                    "location_dest_id": move.location_dest_id.id,
                }
                for move in receipt.move_ids
                for serial in by_product[move.product_id]
            ]
        )
        receipt.move_ids.picked = True
        receipt._action_done()
        lots = receipt.move_line_ids.lot_id
        by_customer = defaultdict(Counter)
        for customer, units in rma_specs:
            for product, _serial in units:
                by_customer[customer][product] += 1
        customer_location = self.env.ref("stock.stock_location_customers")
        pickings = env["stock.picking"].create(
            [
                {
                    "partner_id": customer.id,
                    "picking_type_id": warehouse.out_type_id.id,
                    "location_id": warehouse.lot_stock_id.id,
                    "location_dest_id": customer_location.id,
                    "move_ids": [
                        Command.create(
                            {
                                "product_id": product.id,
                                "product_uom_qty": quantity,
                                "location_id": warehouse.lot_stock_id.id,
                                "location_dest_id": customer_location.id,
                            }
                        )
                        for product, quantity in sorted(products.items(), key=lambda item: item[0].id)
                    ],
                }
                for customer, products in sorted(by_customer.items(), key=lambda item: item[0].id)
            ]
        )
        # Each customer gets exactly the serials of its RMAs.
        serials = defaultdict(list)
        for customer, units in rma_specs:
            for product, serial in units:
                serials[customer.id, product.id].append(serial)
        lot_by_name = {lot.name: lot for lot in lots}
        pickings.action_confirm()
        pickings.move_ids.move_line_ids.unlink()
        env["stock.move.line"].create(
            [
                {
                    "move_id": move.id,
                    "picking_id": move.picking_id.id,
                    "product_id": move.product_id.id,
                    "lot_id": lot_by_name[serial].id,
                    "quantity": 1,
                    "location_id": move.location_id.id,
                    "location_dest_id": move.location_dest_id.id,
                }
                for move in pickings.move_ids
                for serial in serials[move.picking_id.partner_id.id, move.product_id.id]
            ]
        )
        pickings.move_ids.picked = True
        pickings.with_context(skip_sms=True, skip_backorder=True)._action_done()
        self.stats["deliveries"] += len(pickings)

    def _inspect(self, units):
        units.action_start_inspection()
        groups = defaultdict(list)
        for unit in units:
            groups[self.rng.choices(range(len(FINDINGS)), weights=[f[3] for f in FINDINGS])[0]].append(unit.id)
        for finding, ids in sorted(groups.items()):
            grade, result, failed, _weight = FINDINGS[finding]
            values = {"grade_id": self.grades[grade].id, "functional_result": result}
            if failed:
                values["failure_code_ids"] = [Command.set(self.failure.ids)]
            units.browse(ids).inspection_id.write(values)
        units.inspection_id.action_done()

    def _dispose(self, env, units):
        wizard = env["rma.disposition.wizard"].with_context(active_model="rma.line", active_ids=units.ids).create({})
        repairs = wizard.line_ids.filtered(lambda line: line.treatment == "repair")
        repairs.repair_level = "l2"
        wizard.action_confirm()
        self.stats["disposed"] += len(wizard.line_ids)

    # ------------------------------------------------------------------
    # Invariants
    # ------------------------------------------------------------------
    def _values(self, company):
        """Stock value and ledger per valuation account, of the ORM's products (the clones' do not move after)."""
        company = company.with_context(allowed_company_ids=[company.id])
        accounts = company._get_accounts_by_product(self.products.with_company(company))
        return dict(company.stock_value(accounts)), dict(company.stock_accounting_value(accounts))

    @contextmanager
    def _step(self, company, month, label):
        """A step of the returns: it must move each stock valuation account as much in stock value as in the ledger
        (the accounting contract's first invariant); the steps that do not are listed in ``step_gaps``."""
        value_before, ledger_before = self._values(company)
        yield
        value_after, ledger_after = self._values(company)
        for account in set(value_before) | set(value_after) | set(ledger_before) | set(ledger_after):
            delta = self.deltas[company][account.id]
            stock = value_after.get(account, 0.0) - value_before.get(account, 0.0)
            ledger = ledger_after.get(account, 0.0) - ledger_before.get(account, 0.0)
            delta["stock"] += stock
            delta["ledger"] += ledger
            if abs(stock - ledger) > 0.005:
                self.step_gaps.append((company.name, month + 1, label, account.code, round(stock - ledger, 2)))

    def check(self):
        """The invariants, with the addon's own code: a dict per company."""
        result = {}
        for company in self.companies:
            integrity = self.env["rma.custody.event"]._check_integrity(company)
            # Every step is checked to the cent (step_gaps); over the history, a cent for each step listed there.
            cents = sum(1 for gap in self.step_gaps if gap[0] == company.name) * 0.01 + 0.005
            gaps = {
                account_id: round(delta["stock"] - delta["ledger"], 2)
                for account_id, delta in self.deltas[company].items()
                if abs(delta["stock"] - delta["ledger"]) > cents
            }
            result[company.name] = {
                "integrity": integrity["ok"],
                "message": integrity.get("message"),
                "events": integrity["event_count"],
                "chains": integrity["chain_count"],
                "seals": self.env["rma.custody.seal"].search_count([("company_id", "=", company.id)]),
                "stock_ledger_gaps": gaps,
                "stock_change": round(sum(delta["stock"] for delta in self.deltas[company].values()), 2),
                "clone_gaps": self._clone_gaps(company),
            }
        return result

    def _valuation(self, company, products):
        """{product: (stock value, {valuation account: balance})} with Odoo's own figures: ``total_value`` (FIFO or
        average cost over the product's moves) and the posted journal items."""
        company_env = self.env(context={"allowed_company_ids": [company.id]})
        by_product = company.with_env(company_env)._get_accounts_by_product(self.products)
        accounts = company_env["account.account"].browse({accounts["valuation"].id for accounts in by_product.values()})
        ledger = defaultdict(dict)
        for product, account, balance in company_env["account.move.line"]._read_group(
            [
                ("company_id", "=", company.id),
                ("parent_state", "=", "posted"),
                ("account_id", "in", accounts.ids),
                ("product_id", "in", products.ids),
            ],
            ["product_id", "account_id"],
            ["balance:sum"],
        ):
            ledger[product.id][account.code] = round(balance, 2)
        return {
            product.id: (round(product.total_value, 2), ledger[product.id])
            for product in products.with_env(company_env)
        }

    def _clone_gaps(self, company):
        """Each copy of a product against its template when it was copied: stock value and ledger per valuation
        account. Returns the differences (empty: every copy's valuation and ledger are its template's)."""
        if not self.clones:
            return []
        copies = self.env["product.product"].union(*(copies for _product, copies in self.clones))
        now = self._valuation(company, copies)
        gaps = []
        for product, product_copies in self.clones:
            value, ledger = self.template_values[company.id][product.id]
            for copy in product_copies:
                copy_value, copy_ledger = now[copy.id]
                if copy_value != value:
                    gaps.append((copy.display_name, "stock value", round(copy_value - value, 2)))
                for account in set(ledger) | set(copy_ledger):
                    difference = round(copy_ledger.get(account, 0.0) - ledger.get(account, 0.0), 2)
                    if difference:
                        gaps.append((copy.display_name, account, difference))
        return gaps

    def states(self):
        """Units by state and by disposition code."""
        domain = [("company_id", "in", self.companies.ids)]
        lines = self.env["rma.line"]
        states = dict(lines._read_group(domain, ["state"], ["__count"]))
        codes = {code.code: count for code, count in lines._read_group(domain, ["disposition_id"], ["__count"]) if code}
        return states, codes

    def signature(self):
        """What must not depend on the database's ids: each unit's events, in chain order."""
        self.env.cr.execute(
            SQL(
                "SELECT l.serial_number, e.sequence, e.event_type, to_char(e.event_date, 'YYYY-MM-DD HH24:MI:SS'),"
                " e.station, e.scanned_code, e.note, l.state"
                " FROM rma_custody_event e JOIN rma_line l ON l.id = e.line_id WHERE e.company_id = ANY(%s)"
                " ORDER BY l.serial_number, e.sequence",
                self.companies.ids,
            )
        )
        return [(row[0].removeprefix(self.prefix), *row[1:]) for row in self.env.cr.fetchall()]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--rmas", type=int, default=200)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--cost-method", choices=("fifo", "average", "standard"), default="fifo")
    parser.add_argument(
        "--template-rmas",
        type=int,
        default=0,
        help="at scale: RMAs of the first months, written through the ORM and copied in SQL to reach --rmas",
    )
    parser.add_argument("--recent-rmas", type=int, help="at scale: RMAs of the last months (default: --template-rmas)")
    args = parser.parse_args()
    config.parse_config(["-c", args.config, "-d", args.database, "--log-level=warn"])
    registry = Registry(args.database)
    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {"rma_generate_commit": True})
        generator = Generator(
            env,
            rmas=args.rmas,
            seed=args.seed,
            months=args.months,
            cost_method=args.cost_method,
            template_rmas=args.template_rmas,
            recent_rmas=args.recent_rmas,
        ).run()
        events = env["rma.custody.event"].search_count([("company_id", "in", generator.companies.ids)])
        print(
            f"generated {generator.stats['rmas']:,} RMAs, {generator.unit_count:,} units, {events:,} custody events"
            f" in {generator.stats['seconds']:.0f} s ({events / max(generator.stats['seconds'], 0.1):,.0f} events/s)"
        )
        states, codes = generator.states()
        print(f"  unit states: {states}\n  dispositions: {codes}")
        for gap in generator.step_gaps:
            print(f"  step gap (company, month, step, account, stock - ledger): {gap}")
        ok = True
        for name, check in generator.check().items():
            print(f"  {name}: {check}")
            ok = ok and check["integrity"] and not check["stock_ledger_gaps"] and not check["clone_gaps"]
        cr.commit()
    print("invariants: " + ("all hold" if ok else "BROKEN"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
