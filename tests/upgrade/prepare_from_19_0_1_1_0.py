"""Run by `make test` in `odoo-bin shell`, with rma_recovery 19.0.1.1.0 (git archive of that commit) installed with its
demo data: confirm a disposition the way that version did, then record what the database holds, for
test_upgrade_from_19_0_1_1_0.py to compare once the database is upgraded to the current version.

`env` is the shell's environment (superuser); the snapshot goes to the path in RMA_UPGRADE_SNAPSHOT.
"""

# ruff: noqa: F821
# pylint: disable=undefined-variable,invalid-commit
import json
import os

admin = env.ref("base.user_admin")
to_dispose = env["rma.line"].search([("state", "=", "inspection"), ("inspection_id.state", "=", "done")], order="id")
codes = {code: env.ref(f"rma_recovery.rma_disposition_{code.lower()}") for code in ("RTS", "REF", "REP", "SD")}
plan = [
    ("RTS", {}),
    ("REF", {"net_realizable_value": 300.0, "work_cost": 40.0}),
    ("REP", {"net_realizable_value": 350.0, "repair_level": "l2"}),
    ("SD", {}),
]
units = to_dispose[: len(plan)]
assert len(units) == len(plan), f"the 19.0.1.1.0 demo has {len(to_dispose)} inspected units, expected 6"
values = {
    unit.id: {"disposition_id": codes[code].id, "note": f"upgrade test {code}", **extra}
    for unit, (code, extra) in zip(units, plan, strict=True)
}
units.with_user(admin)._action_dispose(values)

lines = env["rma.line"].search([], order="id")
snapshot = {
    "rma_states": {rma.id: rma.state for rma in lines.rma_id},
    "units": {
        line.id: {
            "state": line.state,
            "rma_id": line.rma_id.id,
            "move_ids": sorted(line.receipt_move_ids.ids),
            "account_move_line_ids": sorted(line.account_move_line_ids.ids),
            "custody_hash": line.custody_hash,
            "disposition_batch": line.disposition_batch or None,
            "book_value": line.book_value,
            "quantity_received": line.quantity_received,
        }
        for line in lines
    },
    "disposed_unit_ids": units.ids,
}
with open(os.environ["RMA_UPGRADE_SNAPSHOT"], "w", encoding="utf-8") as snapshot_file:
    json.dump(snapshot, snapshot_file)
env.cr.commit()
