from odoo import fields, models

from .rma_server_context import server_value


class StockQuant(models.Model):
    _inherit = "stock.quant"

    rma_condition = fields.Selection(related="lot_id.rma_condition", string="Condition")
    rma_grade_id = fields.Many2one(related="lot_id.rma_grade_id", string="Cosmetic Grade")

    def _get_gather_domain(self, product_id, location_id, lot_id=None, package_id=None, owner_id=None, strict=False):
        domain = super()._get_gather_domain(product_id, location_id, lot_id, package_id, owner_id, strict)
        # A move asking for a condition reserves only quants of it (stock.move._rma_with_lot_domain).
        lot_domain = server_value(self.env, "rma_lot_domain")
        return domain & lot_domain if lot_domain is not None else domain
