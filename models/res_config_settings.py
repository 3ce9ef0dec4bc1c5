from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    rma_return_window_days = fields.Integer(related="company_id.rma_return_window_days", readonly=False)
    rma_warranty_months = fields.Integer(related="company_id.rma_warranty_months", readonly=False)
