"""Odoo's server with a build of the addon whose receipt posts nothing: the lock-free ceiling of bench/concurrent.py.

Usage (by bench/concurrent.py only): python bench/ceiling_server.py <odoo-bin server options>

The patch lives in this process only (and its forked workers): the addon is imported here, its receipt entry step
replaced by one that posts nothing, then Odoo's server starts as odoo-bin does. Nothing in the addon reads a flag,
a context key or a setting for it.
"""

import sys

from odoo.cli.server import main
from odoo.modules.module import initialize_sys_path
from odoo.tools import config


def patch_receipt():
    # Imported here: the addons path is set only now.
    from odoo.addons.rma_recovery.models import stock_move

    def post_nothing(self):
        return self.env["account.move"]

    stock_move.StockMove._rma_post_receipt_entries = post_nothing


if __name__ == "__main__":
    args = sys.argv[1:]
    config.parse_config(args)
    initialize_sys_path()
    patch_receipt()
    main(args)
