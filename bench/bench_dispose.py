"""Dispose returned units with mixed codes in one wizard confirmation, against Odoo's native batched return.

Per unit: milliseconds, SQL queries and journal entries of rma.disposition.wizard.action_confirm over units of
10 RMAs, the six codes in turn (RTS, REF, REP L2 with its repair order, PH, REC, SD), in a company with the
generic chart and perpetual (real-time) valuation, so the confirmation posts Odoo's valuation entries and the
addon's. Baseline: Odoo's native return of a 1,000-unit delivery (wizard + validation), in the same run.
Receipt and inspection are set-up, not measured.
"""

from common import Fixture, native_return

from odoo import Command

BATCHES = (100, 1000)
RMAS_PER_BATCH = 10
CODES = ("rts", "ref", "rep", "ph", "rec", "sd")


def chart_company_env(env):
    """A company with the generic chart and perpetual valuation (rolled back with the rest)."""
    company = env["res.company"].create({"name": "RMA Bench Company"})
    env["account.chart.template"]._load("generic_coa", company, install_demo=False)
    env.user.company_ids |= company
    # Odoo creates a new company's warehouse only under tests.
    env["stock.warehouse"].create({"name": "Bench Returns", "code": "BRMA", "company_id": company.id})
    return env(context=dict(env.context, allowed_company_ids=[company.id]))


def inspected_units(env, fixture, count):
    """``count`` delivered units, returned on RMAS_PER_BATCH RMAs, received and inspected."""
    lots = fixture.deliver(count).move_line_ids.lot_id
    size = count // RMAS_PER_BATCH
    rmas = env["rma.order"].create(
        [
            {
                "partner_id": fixture.customer.id,
                "reason_id": fixture.reason.id,
                "line_ids": [
                    Command.create({"product_id": fixture.product.id, "serial_number": lot.name})
                    for lot in lots[index : index + size]
                ],
            }
            for index in range(0, count, size)
        ]
    )
    rmas.action_authorize()
    lines = rmas.line_ids
    env["stock.picking"]._rma_receive(lines, station="BENCH")
    lines.action_start_inspection()
    lines.inspection_id.write({"grade_id": env.ref("rma_recovery.rma_grade_b").id, "functional_result": "pass"})
    lines.inspection_id.action_done()
    return lines


def disposition_wizard(env, lines):
    """The wizard as a manager leaves it: codes in turn, net realizable values, a level, recovery values."""
    codes = [env.ref(f"rma_recovery.rma_disposition_{code}") for code in CODES]
    wizard_lines = []
    for index, line in enumerate(lines):
        code = codes[index % len(codes)]
        wizard_lines.append(
            Command.create(
                {
                    "unit_id": line.id,
                    "disposition_id": code.id,
                    "repair_level": "l2" if code.treatment == "repair" else False,
                    "net_realizable_value": 350.0 if code.treatment in ("refurbish", "repair") else 0.0,
                    "work_cost": 40.0 if code.treatment == "refurbish" else code._get_repair_cost("l2"),
                    "recovery_value": 15.0 if code.treatment == "salvage" else 0.0,
                }
            )
        )
    return env["rma.disposition.wizard"].create({"line_ids": wizard_lines})


def run(env, measure):
    env = chart_company_env(env)
    fixture = Fixture(env)
    fixture.product.categ_id = env["product.category"].create(
        {"name": "Bench Returns", "property_valuation": "real_time", "property_cost_method": "average"}
    )
    native_delivery = fixture.deliver(BATCHES[-1])
    wizards = {count: disposition_wizard(env, inspected_units(env, fixture, count)) for count in BATCHES}
    entry_model = env["account.move"]

    # The like-for-like baseline varies from run to run on this machine: measured twice, the faster one counts.
    like_for_like_deliveries = [fixture.deliver(BATCHES[-1]) for _run in range(2)]
    measure(f"native return wizard, batch of {BATCHES[-1]}", BATCHES[-1], lambda: native_return(env, native_delivery))
    entries = {}
    posted_shape = {}
    for count, wizard in wizards.items():
        before = entry_model.search([], order="id desc", limit=1).id
        measure(f"rma disposition wizard confirm, {count} units", count, wizard.action_confirm)
        units = wizard.line_ids.unit_id
        assert all(units.mapped("disposition_id")), "every unit is disposed"
        new_entries = entry_model.search([("id", ">", before)])
        entries[count] = len(new_entries)
        posted_shape[count] = [len(entry.line_ids) for entry in new_entries]
        print(
            f"  {count} units: {sum(posted_shape[count])} journal lines ({sum(posted_shape[count]) / count:.2f} per"
            f" unit) in entries of {posted_shape[count]} lines",
            flush=True,
        )
        repairs = len(units.repair_id)
        print(
            f"  {count} units: {entries[count]} journal entries ({entries[count] / count:.3f} per unit),"
            f" {repairs} repair orders, {len(units.rma_id)} RMAs",
            flush=True,
        )

    like_for_like_runs = []
    for run_index, delivery in enumerate(like_for_like_deliveries, start=1):
        label = f"native return + ORM entries of the same lines, {BATCHES[-1]} (#{run_index})"

        def native_return_and_entries(delivery=delivery):
            native_return(env, delivery)
            post_entries(env, posted_shape[BATCHES[-1]])

        measure(label, BATCHES[-1], native_return_and_entries)
        like_for_like_runs.append(label)
    like_for_like = min(like_for_like_runs, key=measure.per_unit)

    print()
    big, small = (
        f"rma disposition wizard confirm, {BATCHES[-1]} units",
        f"rma disposition wizard confirm, {BATCHES[0]} units",
    )
    native = f"native return wizard, batch of {BATCHES[-1]}"
    ms_ratio = measure.ratio(big, native)
    measure.ratio(big, native, key="queries")
    like_ratio = measure.ratio(big, like_for_like)
    measure.ratio(big, like_for_like, key="queries")
    small_queries, big_queries = measure.per_unit(small, "queries"), measure.per_unit(big, "queries")
    growth = (big_queries - small_queries) / small_queries
    print(
        f"  queries/unit {BATCHES[0]} -> {BATCHES[-1]} units: {small_queries:.2f} -> {big_queries:.2f} ({growth:+.1%})"
    )
    print(
        f"  targets: confirm <= 1.2x the like-for-like baseline: {like_ratio:.2f}"
        f" {'met' if like_ratio <= 1.2 else 'NOT met'}; <= 2x the bare native return: {ms_ratio:.2f}"
        f" {'met' if ms_ratio <= 2 else 'NOT met'};"
        f" queries/unit flat within 10%: {'met' if growth <= 0.10 else 'NOT met'}"
    )


def post_entries(env, shape):
    """Journal entries with ``shape`` = [lines per entry] posted by Odoo's ORM: balanced lines on two accounts of the
    company, in a general journal, one create and one _post for all of them. Plain lines: with a product and a
    partner on each, Odoo's own onchange-style computations take over 100 ms per line here."""
    company = env.company
    journal = env["account.journal"].search([("type", "=", "general"), ("company_id", "=", company.id)], limit=1)
    accounts = env["account.account"].search([("company_ids", "in", company.ids)], limit=2)
    moves = env["account.move"].create(
        [
            {
                "move_type": "entry",
                "journal_id": journal.id,
                "ref": "like-for-like",
                "line_ids": [
                    Command.create(
                        {
                            "name": f"like-for-like {index}",
                            "account_id": accounts[index % 2].id,
                            "debit": 10.0 if index % 2 == 0 else 0.0,
                            "credit": 10.0 if index % 2 else 0.0,
                        }
                    )
                    for index in range(lines)
                ],
            }
            for lines in shape
        ]
    )
    moves._post()
    return moves
