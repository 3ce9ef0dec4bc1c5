"""Seal 100,000 changed unit chains, verify an export of 1,000,000 events, print 1,000 certificates in one batch.

The units and events are written straight to the tables (set-up, not measured). The verifier is the standalone
tools/verify_custody.py, run on a JSON Lines export built by the addon's own hash function, against its physical
ceiling in the same run: a plain loop of sha256 over the bytes each event's hash covers (the previous hash and the
values' canonical JSON), one hash an event as the verifier computes, without reading the JSON; each twice in
alternation, the faster run counted, with the machine (cores, CPU model). The batch PDF renders
1,000 validated certificates of sanitization, as HTML (the addon's part) and as the PDF wkhtmltopdf makes of it (a
sample of 20 with an unpatched wkhtmltopdf, which converts one certificate per run).
"""

import hashlib
import importlib.util
import os
import time

from common import Fixture

from odoo import Command, fields
from odoo.tools import SQL

from odoo.addons.base.models.ir_actions_report import _wkhtml
from odoo.addons.rma_recovery.models.rma_custody_event import HASHED_FIELDS, _canonical_json, custody_hash

SEAL_UNITS = 100_000
EXPORT_UNITS, EXPORT_EVENTS_PER_UNIT = 10_000, 100
CERTIFICATES = 1000
PDF_SAMPLE_UNPATCHED = 20
VERIFIER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools", "verify_custody.py")


def seed_units(env, fixture, count):
    """``count`` units with a one-event chain head each, in one RMA (rows only: the seal reads the heads)."""
    rma = env["rma.order"].create({"partner_id": fixture.customer.id, "reason_id": fixture.reason.id})
    env.flush_all()
    env.cr.execute(
        SQL(
            "INSERT INTO rma_line (rma_id, product_id, company_id, quantity, state, remedy_requested, remedy,"
            " custody_sequence, custody_hash) SELECT %s, %s, %s, 1, 'received', 'none', 'none', 1,"
            " '$1$' || md5(i::text) FROM generate_series(1, %s) AS i",
            rma.id,
            fixture.product.id,
            fixture.company.id,
            count,
        )
    )


def export_lines(company_id, units, events_per_unit, payloads=None):
    """A custody export as the addon writes it (header, events by unit and position, one seal); ``payloads``, a
    list, receives the bytes each event's hash covers."""
    yield _canonical_json(
        {
            "format": "rma_recovery.custody",
            "version": 1,
            "event_fields": list(HASHED_FIELDS),
            "seal_fields": ["company_id", "sequence", "seal_date", "heads"],
        }
    )
    heads, event_id = [], 0
    for unit in range(1, units + 1):
        previous = None
        for position in range(1, events_per_unit + 1):
            event_id += 1
            values = [position, unit, 1, company_id, 1, None, f"SN-{unit}", "scan", 8, None, 2]
            values += ["2026-11-27 10:00:00", "DOCK-1", f"SN-{unit}", None]
            digest = custody_hash(previous, values)
            if payloads is not None:
                payloads.append(f"{previous or ''}{_canonical_json(values)}".encode())
            yield _canonical_json(
                {"type": "event", "id": event_id, "values": values, "previous_hash": previous, "hash": digest}
            )
            previous = digest
        heads.append([unit, events_per_unit, previous])
    heads_text = _canonical_json(heads)
    seal_values = [company_id, 1, "2026-11-27 11:00:00", heads_text]
    yield _canonical_json(
        {"type": "seal", "values": seal_values, "previous_hash": None, "hash": custody_hash(None, seal_values)}
    )


def validated_certificates(env, fixture, count):
    rma = env["rma.order"].create(
        {
            "partner_id": fixture.customer.id,
            "reason_id": fixture.reason.id,
            "line_ids": [
                Command.create({"product_id": fixture.product.id, "serial_number": f"CERT-{index:06d}"})
                for index in range(count)
            ],
        }
    )
    now = fields.Datetime.now()
    certificates = (
        env["rma.sanitization"]
        .sudo()
        .create(
            [
                {"line_id": line.id, "method_type": "destroy", "method": "shred", "performer_name": "Bench Tech"}
                for line in rma.line_ids
            ]
        )
    )
    for certificate in certificates:
        certificate.write({"performed_date": now, "validated_date": now, "performed_by_id": env.uid})
        certificate.write({"hash": certificate._compute_certificate_hash(), "state": "validated"})
    return certificates


def _machine():
    """Cores and CPU model (Linux's /proc/cpuinfo), for the verifier's figure."""
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), model)
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable), {model}"


def run(env, measure):
    fixture = Fixture(env)
    seed_units(env, fixture, SEAL_UNITS)
    measure(
        f"seal of {SEAL_UNITS:,} changed unit chains",
        SEAL_UNITS,
        lambda: env["rma.custody.seal"]._seal(fixture.company),
    )

    spec = importlib.util.spec_from_file_location("verify_custody", VERIFIER)
    verifier = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(verifier)
    payloads = []
    lines = list(export_lines(fixture.company.id, EXPORT_UNITS, EXPORT_EVENTS_PER_UNIT, payloads))
    events = EXPORT_UNITS * EXPORT_EVENTS_PER_UNIT
    sha256 = hashlib.sha256

    def ceiling():
        for payload in payloads:
            sha256(payload).hexdigest()

    verifier_times, ceiling_times = [], []
    for _round in range(2):
        started = time.perf_counter()
        ok, message, count = verifier.verify(lines)
        verifier_times.append(time.perf_counter() - started)
        assert ok and count == events, message
        started = time.perf_counter()
        ceiling()
        ceiling_times.append(time.perf_counter() - started)
    elapsed = min(verifier_times)
    rate, ceiling_rate = events / elapsed, events / min(ceiling_times)
    print(f"  machine: {_machine()}", flush=True)
    print(
        f"  verifier: {events:,} events in {elapsed:.1f} s: {rate:,.0f} events/s ({message});"
        f" runs {', '.join(f'{events / t:,.0f}' for t in verifier_times)}",
        flush=True,
    )
    print(
        f"  ceiling, sha256 of the same {sum(map(len, payloads)) / 1e6:.0f} MB, one hash an event:"
        f" {ceiling_rate:,.0f} events/s (runs {', '.join(f'{events / t:,.0f}' for t in ceiling_times)});"
        f" the verifier runs at {100 * rate / ceiling_rate:.0f}% of it",
        flush=True,
    )

    certificates = validated_certificates(env, fixture, CERTIFICATES)
    report = env.ref("rma_recovery.action_report_sanitization_certificate")
    html = measure(
        f"certificates of sanitization, {CERTIFICATES} in one batch (HTML)",
        CERTIFICATES,
        lambda: report._render_qweb_html(report.report_name, certificates.ids)[0],
    )
    assert html.count(b"Certificate of Sanitization") >= CERTIFICATES
    # A wkhtmltopdf built against an unpatched Qt (Debian's) converts one document per run: the addon then prints
    # each certificate on its own (models/ir_actions_report.py), about a second each; a sample tells the per-unit cost.
    printed = certificates if _wkhtml().is_patched_qt else certificates[:PDF_SAMPLE_UNPATCHED]
    pdf, _kind = measure(
        f"certificates of sanitization, {len(printed)} in one batch (PDF, wkhtmltopdf"
        f"{'' if _wkhtml().is_patched_qt else ', unpatched Qt: one run per certificate'})",
        len(printed),
        lambda: report.with_context(force_report_rendering=True)._render_qweb_pdf(report.report_name, printed.ids),
    )
    assert pdf.startswith(b"%PDF")
    print(
        f"  targets: verifier >= 100,000 events/s: {rate:,.0f} {'met' if rate >= 100_000 else 'NOT met'};"
        f" seal and batch certificates: per-unit figures above (no target set)"
    )
