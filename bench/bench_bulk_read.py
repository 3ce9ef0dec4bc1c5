"""A pallet's RFID read received at once (rma.scan.receive_bulk), against the batch receipt and Odoo's native returns.

Per unit: milliseconds and SQL queries. The bulk read of 500 units sends their tags' EPC hex (SGTIN-198, encoded by
epcpy as a tag printer would) with duplicates as a portal reads them; the method parses, deduplicates, resolves and
classifies the codes, then receives the units through the batch receipt (stock.picking._rma_receive). Compared in the
same run with that batch receipt of 500 units given as records (no parsing, no resolution) and with the native return
wizard of a 500-unit delivery. Target: the bulk read <= 1.2x the batch receipt per unit.
"""

from bench_receive import authorized_rma
from common import Fixture, native_return

from odoo.addons.rma_recovery.models.rma_read_parser import sgtin_hex

UNITS, WARM_UP = 500, 20
GTIN = "4012345000016"


def run(env, measure):
    fixture = Fixture(env)
    fixture.product.barcode = GTIN
    native = fixture.deliver(UNITS)
    warm_batch, warm_bulk = (authorized_rma(env, fixture, fixture.deliver(WARM_UP)) for _index in range(2))
    batch_rma = authorized_rma(env, fixture, fixture.deliver(UNITS))
    bulk_rma = authorized_rma(env, fixture, fixture.deliver(UNITS))
    # The portal's export: every tag, the first 50 read twice.
    codes = [sgtin_hex(GTIN, line.serial_number) for line in bulk_rma.line_ids]
    codes += codes[:50]
    warm_codes = [sgtin_hex(GTIN, line.serial_number) for line in warm_bulk.line_ids]
    scan = env["rma.scan"]
    picking = env["stock.picking"]
    # Both paths warmed up once (caches, prepared plans), outside the measurements.
    picking._rma_receive(warm_batch.line_ids, station="BENCH")
    scan.receive_bulk(warm_codes, rma_id=warm_bulk.id, station="BENCH")

    measure(f"native return wizard, batch of {UNITS}", UNITS, lambda: native_return(env, native))
    measure(
        f"rma batch receipt of {UNITS} (records)",
        UNITS,
        lambda: picking._rma_receive(batch_rma.line_ids, station="BENCH"),
    )
    answer = measure(
        f"rma bulk read of {UNITS} (EPC hex, 50 read twice)",
        UNITS,
        lambda: scan.receive_bulk(codes, rma_id=bulk_rma.id, station="BENCH", read_ref="READ/BENCH/1"),
    )
    assert answer["bulk"]["counts"]["done"] == UNITS, answer["bulk"]["counts"]
    assert answer["bulk"]["counts"]["duplicate"] == 50, answer["bulk"]["counts"]
    assert set(bulk_rma.line_ids.mapped("state")) == {"received"}
    assert len(bulk_rma.line_ids.custody_event_ids) == UNITS

    print()
    bulk = f"rma bulk read of {UNITS} (EPC hex, 50 read twice)"
    batch = f"rma batch receipt of {UNITS} (records)"
    ratio_ms = measure.ratio(bulk, batch)
    ratio_queries = measure.ratio(bulk, batch, key="queries")
    measure.ratio(bulk, f"native return wizard, batch of {UNITS}")
    measure.ratio(bulk, f"native return wizard, batch of {UNITS}", key="queries")
    print(
        f"  targets: bulk read <= 1.2x batch receipt per unit: ms {ratio_ms:.2f}"
        f" {'met' if ratio_ms <= 1.2 else 'NOT met'}, queries {ratio_queries:.2f}"
        f" {'met' if ratio_queries <= 1.2 else 'NOT met'}"
    )
