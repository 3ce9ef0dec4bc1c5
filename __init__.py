from . import models
from . import reports
from . import wizards


def _post_init_hook(env):
    # Companies that existed before the install get their RMA number sequence here; new ones in create.
    env["res.company"].search([])._create_rma_sequences()
