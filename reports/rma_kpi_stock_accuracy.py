from odoo import fields, models
from odoo.tools import SQL


class RmaKpiStockAccuracy(models.Model):
    """Odoo's inventory adjustments in the return locations (quarantine and graded stock, and their sublocations):
    counted minus system quantity, and the value of the difference (README, "KPIs")."""

    _name = "rma.kpi.stock.accuracy"
    _description = "Returns KPI: Stock Accuracy"
    _auto = False
    _order = "date desc"
    # What the view reads: flushed before it is queried.
    _depends = {
        "stock.move": [
            "date",
            "company_id",
            "location_id",
            "location_dest_id",
            "product_id",
            "quantity",
            "value",
            "state",
            "is_inventory",
        ],
        "stock.warehouse": ["rma_quarantine_location_id", "rma_graded_location_id", "company_id"],
        "stock.location": ["parent_path", "usage"],
    }

    date = fields.Datetime(string="Counted On", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    warehouse_id = fields.Many2one("stock.warehouse", readonly=True)
    location_id = fields.Many2one("stock.location", string="Return Location", readonly=True)
    product_id = fields.Many2one("product.product", readonly=True)
    categ_id = fields.Many2one("product.category", string="Product Category", readonly=True)
    move_id = fields.Many2one("stock.move", string="Adjustment", readonly=True)
    quantity_delta = fields.Float(
        string="Counted - System", readonly=True, aggregator="sum", help="Positive: more was counted than recorded."
    )
    value_delta = fields.Monetary(string="Value of the Difference", readonly=True, aggregator="sum")

    @property
    def _table_query(self):
        # A location is a return location when it is, or is under, a warehouse's quarantine or graded stock.
        return SQL(
            """
            SELECT move.id AS id, move.id AS move_id, move.date, move.company_id, company.currency_id,
                   warehouse.id AS warehouse_id, counted.id AS location_id, move.product_id, template.categ_id,
                   CASE WHEN counted.id = move.location_dest_id THEN move.quantity ELSE -move.quantity END
                       AS quantity_delta,
                   CASE WHEN counted.id = move.location_dest_id THEN COALESCE(move.value, 0.0)
                        ELSE -COALESCE(move.value, 0.0) END AS value_delta
              FROM stock_move move
              JOIN res_company company ON company.id = move.company_id
              JOIN stock_location destination ON destination.id = move.location_dest_id
              JOIN stock_location counted
                ON counted.id = CASE WHEN destination.usage = 'internal' THEN move.location_dest_id
                                     ELSE move.location_id END
              JOIN stock_warehouse warehouse ON warehouse.company_id = move.company_id
              JOIN stock_location root
                ON root.id IN (warehouse.rma_quarantine_location_id, warehouse.rma_graded_location_id)
               AND counted.parent_path LIKE root.parent_path || '%%'
              JOIN product_product product ON product.id = move.product_id
              JOIN product_template template ON template.id = product.product_tmpl_id
             WHERE move.is_inventory AND move.state = 'done'
            """
        )
