# Run by `odoo-bin shell` on a database of the last release (scripts/harness.sh, cmd_test_upgrade): the release's own
# demo data (RMAs at every step, built by its methods) is what the upgrade must keep. Snapshot what the new version
# must find unchanged.
import json
import os

lines = env["rma.line"].search([], order="id")  # noqa: F821 (env is the shell's)
snapshot = {
    "units": {
        line.id: {
            "state": line.state,
            "custody_hash": line.custody_hash,
            "account_move_line_ids": sorted(line.account_move_line_ids.ids),
            "move_ids": sorted(line.receipt_move_ids.ids),
            "book_value": line.book_value,
        }
        for line in lines
    },
    "company_ids": lines.company_id.ids,
}
with open(os.environ["RMA_UPGRADE_SNAPSHOT"], "w", encoding="utf-8") as snapshot_file:
    json.dump(snapshot, snapshot_file)
env.cr.commit()  # noqa: F821
