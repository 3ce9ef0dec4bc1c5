"""19.0.1.1.0: disposition codes carry their treatment and destination; companies get the disposition batch
sequence and the default disposition accounts."""

from odoo import SUPERUSER_ID, api

# The standard codes were installed (noupdate) before they had a treatment: give them theirs.
STANDARD_CODES = {
    "rts": {"treatment": "restock", "destination": "lot_stock_id"},
    "ref": {"treatment": "refurbish", "destination": "rma_refurbish_location_id"},
    "rep": {
        "treatment": "repair",
        "destination": "rma_repair_location_id",
        "repair_cost_l1": 25.0,
        "repair_cost_l2": 60.0,
        "repair_cost_l3": 120.0,
        "repair_cost_l4": 250.0,
    },
    "ph": {"treatment": "salvage", "destination": "rma_harvest_location_id"},
    "rec": {"treatment": "salvage", "destination": "rma_recycle_location_id"},
    "sd": {"treatment": "destroy", "destination": "rma_destruction_location_id", "requires_certificate": True},
}


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    for code, values in STANDARD_CODES.items():
        disposition = env.ref(f"rma_recovery.rma_disposition_{code}", raise_if_not_found=False)
        if disposition:
            disposition.write(values)
    env["res.company"]._rma_setup_existing()
