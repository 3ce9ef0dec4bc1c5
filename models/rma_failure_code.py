from odoo import models


class RmaFailureCode(models.Model):
    _name = "rma.failure.code"
    _inherit = ["rma.code.mixin"]
    _description = "Failure Code"
    _order = "sequence, code"
