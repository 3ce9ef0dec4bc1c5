from . import controllers
from . import models
from . import reports
from . import wizards


def _uninstall_hook(env):
    # RMAs reference the reasons installed as data: drop them first so that removing that data does not
    # fail on foreign keys (the tables are dropped right after anyway).
    # Journal items keep their amounts and labels (RMA number, serial, code); only the link column goes.
    env.cr.execute(
        "UPDATE account_move_line SET rma_line_id = NULL, rma_id = NULL WHERE rma_line_id IS NOT NULL;"
        " DELETE FROM rma_custody_event; DELETE FROM rma_inspection; DELETE FROM rma_line; DELETE FROM rma_order"
    )
