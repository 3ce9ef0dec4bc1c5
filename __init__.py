from . import models
from . import reports
from . import wizards


def _post_init_hook(env):
    # Companies that existed before the install get their RMA number sequence here; new ones in create.
    env["res.company"].search([])._create_rma_sequences()
    # Warehouses that existed before the install get their return locations and RMA receipt type.
    env["stock.warehouse"].with_context(active_test=False).search([])._create_rma_data()


def _uninstall_hook(env):
    # RMAs reference the reasons installed as data: drop them first so that removing that data does not
    # fail on foreign keys (the tables are dropped right after anyway).
    env.cr.execute(
        "DELETE FROM rma_custody_event; DELETE FROM rma_inspection; DELETE FROM rma_line; DELETE FROM rma_order"
    )
