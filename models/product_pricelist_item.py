from odoo import fields, models


class ProductPricelistItem(models.Model):
    _inherit = "product.pricelist.item"

    rma_grade_id = fields.Many2one(
        "rma.grade",
        string="Refurbished Grade",
        index="btree_not_null",
        help="The rule prices only refurbished units of this grade (sale lines asking for it), e.g. a percentage of"
        " the new price. Empty: new units.",
    )
