from odoo import fields, models


class ProductValue(models.Model):
    _inherit = "product.value"

    # A returned unit's moves read their manual values by move (stock.move.rma_manual_value_ids) at every receipt:
    # indexed, that read costs what the unit's moves have, not the company's whole cost history.
    move_id = fields.Many2one(index="btree_not_null")
