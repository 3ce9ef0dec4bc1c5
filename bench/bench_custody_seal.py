"""Seal 100,000 changed unit chains, verify an export of 1,000,000 events, print 1,000 certificates in one batch.

The units and events are written straight to the tables (set-up, not measured). The verifier is the standalone
tools/verify_custody.py, run on a JSON Lines export built by the addon's own hash function. The batch PDF renders
1,000 validated certificates of sanitization, as HTML (the addon's part) and as the PDF wkhtmltopdf makes of it (a
sample of 20 with an unpatched wkhtmltopdf, which converts one certificate per run).
"""

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


def export_lines(company_id, units, events_per_unit):
    """A custody export as the addon writes it (header, events by unit and position, one seal)."""
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
    lines = list(export_lines(fixture.company.id, EXPORT_UNITS, EXPORT_EVENTS_PER_UNIT))
    events = EXPORT_UNITS * EXPORT_EVENTS_PER_UNIT
    started = time.perf_counter()
    ok, message, count = verifier.verify(lines)
    elapsed = time.perf_counter() - started
    assert ok and count == events, message
    rate = events / elapsed
    print(f"  verifier: {events:,} events in {elapsed:.1f} s: {rate:,.0f} events/s ({message})", flush=True)

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
