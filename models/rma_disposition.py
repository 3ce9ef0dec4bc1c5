from odoo import models


class RmaDisposition(models.Model):
    """A disposition code (RTS, REF, REP, PH, REC, SD): what happens to an inspected unit."""

    _name = "rma.disposition"
    _inherit = ["rma.code.mixin"]
    _description = "Disposition Code"
