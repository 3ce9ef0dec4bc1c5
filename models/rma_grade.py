from odoo import models


class RmaGrade(models.Model):
    _name = "rma.grade"
    _inherit = ["rma.code.mixin"]
    _description = "Cosmetic Grade"
