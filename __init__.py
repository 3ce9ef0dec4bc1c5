from . import models
from . import reports
from . import wizards


def _uninstall_hook(env):
    # RMAs reference the reasons installed as data: drop them first so that removing that data does not
    # fail on foreign keys (the tables are dropped right after anyway).
    env.cr.execute(
        "DELETE FROM rma_custody_event; DELETE FROM rma_inspection; DELETE FROM rma_line; DELETE FROM rma_order"
    )
