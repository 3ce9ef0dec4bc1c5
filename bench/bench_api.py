"""The JSON-2 façade (models/rma_order_api.py) against the back office's create of the same requests.

Figures per request: milliseconds and SQL queries. 1,000 requests of 2 delivered serial units each, one call per
request as they arrive from an e-commerce platform or an RMS: ``api_submit_request`` as a Returns Integration user
against ``rma.order.create`` as a Returns user with the values the façade resolves (the same checks: the values'
check and the units' checks against the shipment, which ``create`` runs), the two alternating by blocks of 100
requests. Then 100 replays of a submitted reference, and 1,000 ``api_status`` calls, one reference each, in a
read-only transaction. Each call starts with an empty cache, as a request in its own transaction does.
"""

import time

from common import Fixture

from odoo import Command

REQUESTS = 1000
UNITS_PER_REQUEST = 2
REQUESTS_PER_DELIVERY = 10  # an order of 20 units, returned 2 by 2
BLOCK = 100  # the back office and the API alternate by blocks of requests
REPLAYS = 100
STATUS_CALLS = 1000
CUSTOMER_REF = "BENCH-CUST"
CUSTOMER_VAT = "BE0477472701"
PRODUCT_CODE = "BENCH-LAPTOP"


def new_user(env, fixture, login, group):
    return env["res.users"].create(
        {
            "name": login,
            "login": login,
            "company_id": fixture.company.id,
            "company_ids": [Command.set(fixture.company.ids)],
            "group_ids": [Command.set(env.ref(group).ids)],
        }
    )


def requests(fixture, count, prefix):
    """``count`` requests of delivered units: (external reference, delivery, serials), each delivery shared by
    ``REQUESTS_PER_DELIVERY`` requests."""
    result = []
    for first in range(0, count, REQUESTS_PER_DELIVERY):
        picking = fixture.deliver(REQUESTS_PER_DELIVERY * UNITS_PER_REQUEST)
        serials = picking.move_line_ids.lot_id.sorted("name").mapped("name")
        for index in range(REQUESTS_PER_DELIVERY):
            units = serials[index * UNITS_PER_REQUEST : (index + 1) * UNITS_PER_REQUEST]
            result.append((f"{prefix}-{first + index:05d}", picking, units))
    return result


def new_transaction(env):
    """What a request's own transaction starts with: nothing pending, nothing cached."""
    env.flush_all()
    env.invalidate_all()


def timed(env, function, *args):
    """(milliseconds, SQL queries) of ``function(*args)``, counted as ``measure`` does."""
    env.flush_all()
    queries_before = env.cr.sql_log_count
    started = time.perf_counter()
    function(*args)
    env.flush_all()
    return (time.perf_counter() - started) * 1000, env.cr.sql_log_count - queries_before


def assert_requested(rmas, sent):
    """Each RMA requested with its 2 units, in the order sent, matched to their delivery, no flag raised."""
    assert len(rmas) == len(sent), len(rmas)
    assert set(rmas.mapped("state")) == {"draft"}, set(rmas.mapped("state"))
    for rma, (_reference, picking, serials) in zip(rmas, sent, strict=True):
        assert rma.picking_id == picking, (rma, rma.picking_id)
        assert rma.line_ids.mapped("serial_number") == serials, (rma, rma.line_ids)
    lines = rmas.line_ids
    assert not any(lines.mapped("has_flag")), lines.filtered("has_flag").mapped("flag_summary")[:5]
    assert all(line.lot_id.name == line.serial_number for line in lines), "every serial matched"
    assert all(line.delivery_move_id.picking_id == line.rma_id.picking_id for line in lines), "delivery found"


def run(env, measure):
    fixture = Fixture(env)
    fixture.customer.write({"ref": CUSTOMER_REF, "vat": CUSTOMER_VAT})
    fixture.product.default_code = PRODUCT_CODE
    integration_user = new_user(env, fixture, "bench_api_integration", "rma_recovery.group_rma_integration")
    returns_user = new_user(env, fixture, "bench_api_returns", "rma_recovery.group_rma_user")
    api_requests = requests(fixture, REQUESTS, "BENCH-API")
    back_office_requests = requests(fixture, REQUESTS, "BENCH-BO")
    Rma = env["rma.order"]
    api = Rma.with_user(integration_user)
    back_office = Rma.with_user(returns_user).with_context(mail_create_nosubscribe=True)  # as the façade creates

    def api_payload(index, reference, picking, serials):
        customer = {"customer_ref": CUSTOMER_REF} if index % 2 else {"customer_vat": CUSTOMER_VAT.lower()}
        return {
            "external_reference": reference,
            "units": [{"product": PRODUCT_CODE, "serial": serial} for serial in serials],
            "reason_code": fixture.reason.code,
            "order_reference": picking.name,
            **customer,
        }

    def back_office_vals(picking, serials):
        """The values ``api_submit_request`` resolves its payload to (found by the back-office user on screen)."""
        return {
            "company_id": fixture.company.id,
            "partner_id": fixture.customer.id,
            "reason_id": fixture.reason.id,
            "user_id": False,
            "customer_reference": picking.name,
            "description": False,
            "picking_id": picking.id,
            "sale_order_id": picking.sale_id.id,
            "line_ids": [
                Command.create(
                    {
                        "product_id": fixture.product.id,
                        "serial_number": serial,
                        "quantity": 1,
                        "remedy_requested": "refund",
                    }
                )
                for serial in serials
            ],
        }

    # Built before the measurements, as the caller and the screen have them.
    payloads = [api_payload(index, *request) for index, request in enumerate(api_requests)]
    back_office_vals_list = [
        back_office_vals(picking, serials) for _reference, picking, serials in back_office_requests
    ]

    created, answers = [], []

    def back_office_flow(start):
        for vals in back_office_vals_list[start : start + BLOCK]:
            new_transaction(env)
            created.append(back_office.create(vals).id)

    def api_flow(start):
        for payload in payloads[start : start + BLOCK]:
            new_transaction(env)
            answers.append(api.api_submit_request(**payload))

    # The two flows alternate by blocks, each first in turn, so that the load of a shared machine and the growing
    # tables weigh on both alike.
    count_before = Rma.search_count([])
    flows = {"back office": back_office_flow, "api": api_flow}
    totals = {name: [0.0, 0] for name in flows}
    for start in range(0, REQUESTS, BLOCK):
        for name in list(flows) if start // BLOCK % 2 == 0 else reversed(flows):
            elapsed_ms, queries = timed(env, flows[name], start)
            totals[name][0] += elapsed_ms
            totals[name][1] += queries
    back_office_label = f"back office: create + checks, {REQUESTS} requests one by one"
    api_label = f"api_submit_request, {REQUESTS} requests one by one"
    measure.record(back_office_label, REQUESTS, *totals["back office"])
    measure.record(api_label, REQUESTS, *totals["api"])
    back_office_rmas = Rma.browse(created)
    env.invalidate_all()

    assert not any(answer["replayed"] for answer in answers)
    api_rmas = Rma.browse([answer["id"] for answer in answers])
    assert Rma.search_count([]) == count_before + 2 * REQUESTS, "one RMA per request"
    assert api_rmas.mapped("external_reference") == [reference for reference, _picking, _serials in api_requests]
    assert set(api_rmas.mapped("create_uid")) == {integration_user}
    assert_requested(back_office_rmas, back_office_requests)
    assert_requested(api_rmas, api_requests)

    counts = Rma.search_count([]), env["rma.line"].search_count([])

    def replays():
        for index in range(REPLAYS):
            new_transaction(env)
            answer = api.api_submit_request(**payloads[index])
            assert answer["replayed"] and answer["id"] == api_rmas[index].id, answer

    measure(f"api_submit_request, {REPLAYS} replays", REPLAYS, replays)
    assert (Rma.search_count([]), env["rma.line"].search_count([])) == counts, "a replay creates nothing"

    # The status carries the RMA number: a manager authorizes the requests (outside the measurements).
    api_rmas.action_authorize()
    assert set(api_rmas.mapped("state")) == {"authorized"}
    numbers = dict(zip(api_rmas.mapped("external_reference"), api_rmas.mapped("name"), strict=True))

    # api_status is @api.readonly (JSON-2 serves it on a read-only cursor): the transaction is made read-only
    # here, so a write in it fails instead of being measured.
    env.flush_all()
    env.cr.execute("SET TRANSACTION READ ONLY")

    def status_calls():
        references = list(numbers)
        for index in range(STATUS_CALLS):
            reference = references[index % len(references)]
            new_transaction(env)
            [status] = api.api_status(external_references=[reference])
            assert status["rma_number"] == numbers[reference] and status["state"] == "authorized", status
            assert len(status["units"]) == UNITS_PER_REQUEST and status["label_url"], status
            assert all(unit["milestones"]["authorized"] for unit in status["units"]), status

    status_label = f"api_status, {STATUS_CALLS} calls of one reference"
    measure(status_label, STATUS_CALLS, status_calls)

    print()
    ratio = measure.ratio(api_label, back_office_label)
    measure.ratio(api_label, back_office_label, key="queries")
    status_ms = measure.per_unit(status_label)
    print(
        f"  target ms ratio <= 1.2: {'met' if ratio <= 1.2 else 'NOT met'};"
        f" api_status <= 20 ms a call: {'met' if status_ms <= 20 else 'NOT met'} ({status_ms:.2f} ms)"
    )
