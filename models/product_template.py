from odoo import fields, models


class ProductTemplate(models.Model):
    _inherit = "product.template"

    rma_warranty_months = fields.Integer(
        string="Warranty (months)",
        help="Warranty counted from the unit's delivery. 0: the product category's, then the company's default.",
    )
    rma_identifier_type = fields.Selection(
        [("serial", "Serial Number"), ("imei", "IMEI")],
        string="Unit Identifier",
        default="serial",
        required=True,
        help="IMEI: the serial declared on a return must be a 15-digit IMEI with a valid Luhn check digit.",
    )
    rma_origin_country_id = fields.Many2one(
        "res.country",
        string="Country of Origin",
        help="Where the product was made (TAA-covered assets): shown on returns, certificates and custody reports.",
    )
