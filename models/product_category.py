from odoo import fields, models


class ProductCategory(models.Model):
    _inherit = "product.category"

    rma_warranty_months = fields.Integer(
        string="Warranty (months)",
        help="Default warranty of the category's products, counted from delivery. 0: the company's default.",
    )
    rma_return_window_days = fields.Integer(
        string="Return Window (days)",
        help="Days after delivery during which the category's products may be returned. 0: the company's window.",
    )
