from odoo import fields, models
from odoo.tools import SQL
from odoo.tools.query import Query


class RmaKpiReturnRate(models.Model):
    """Units shipped and units returned, on one timeline: the return rate is returned ÷ shipped (README, "KPIs").

    Shipped: done moves from an internal location to a customer (deliveries, replacements, units shipped back).
    Returned: RMA units authorized (dated at their authorization), whatever became of them afterwards."""

    _name = "rma.kpi.return.rate"
    _description = "Returns KPI: Return Rate"
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
            "product_qty",
            "state",
            "partner_id",
            "picking_id",
        ],
        "rma.line": ["authorized_date", "company_id", "product_id", "quantity", "state", "rma_id"],
        "rma.order": ["warehouse_id", "partner_id", "reason_id"],
    }

    date = fields.Datetime(readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    warehouse_id = fields.Many2one("stock.warehouse", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    product_id = fields.Many2one("product.product", readonly=True)
    categ_id = fields.Many2one("product.category", string="Product Category", readonly=True)
    reason_id = fields.Many2one("rma.reason", string="Return Reason", readonly=True)
    qty_shipped = fields.Float(string="Units Shipped", readonly=True, aggregator="sum")
    qty_returned = fields.Float(string="Units Returned", readonly=True, aggregator="sum")
    return_rate = fields.Float(
        string="Return Rate (%)",
        readonly=True,
        aggregator="avg",
        help="Units returned ÷ units shipped, in percent, for the rows of each group together.",
    )

    @property
    def _table_query(self):
        # Ids: even for shipped moves, odd for returned units (one view, two sources).
        # The joins that only describe a row (product, partner, RMA) are LEFT JOINs on required keys (the same rows
        # as inner joins): PostgreSQL drops those a query does not read, e.g. a pivot by product and week joins only
        # the locations that select the moves. The picking is read inside the partner's join, so that it goes with it
        # (a join of its own stayed, one lookup per shipped move).
        return SQL(
            """
            SELECT move.id * 2 AS id, move.date, move.company_id, source.warehouse_id,
                   COALESCE(partner.commercial_partner_id, partner.id) AS partner_id, move.product_id,
                   template.categ_id, NULL::int AS reason_id, move.product_qty AS qty_shipped, 0.0 AS qty_returned,
                   0.0::float8 AS return_rate
              FROM stock_move move
              JOIN stock_location source ON source.id = move.location_id
              JOIN stock_location destination ON destination.id = move.location_dest_id
              LEFT JOIN product_product product ON product.id = move.product_id
              LEFT JOIN product_template template ON template.id = product.product_tmpl_id
              LEFT JOIN res_partner partner ON partner.id = COALESCE(
                   move.partner_id,
                   (SELECT picking.partner_id FROM stock_picking picking WHERE picking.id = move.picking_id)
              )
             WHERE move.state = 'done' AND source.usage = 'internal' AND destination.usage = 'customer'
            UNION ALL
            SELECT line.id * 2 + 1, line.authorized_date, line.company_id, rma.warehouse_id,
                   COALESCE(partner.commercial_partner_id, partner.id), line.product_id, template.categ_id,
                   rma.reason_id, 0.0, line.quantity, NULL::float8
              FROM rma_line line
              LEFT JOIN rma_order rma ON rma.id = line.rma_id
              LEFT JOIN res_partner partner ON partner.id = rma.partner_id
              LEFT JOIN product_product product ON product.id = line.product_id
              LEFT JOIN product_template template ON template.id = product.product_tmpl_id
             WHERE line.authorized_date IS NOT NULL AND line.state NOT IN ('draft', 'rejected', 'cancel')
            """
        )

    def _read_group_select(self, aggregate_spec: str, query: Query) -> SQL:
        """The return rate of a group is its units returned over its units shipped: a ratio is neither summed nor
        averaged over rows (a row is one shipment or one returned unit), so every group, totals included, computes
        it from its own sums, as Odoo's vendor delay report does for its on-time rate. A group with nothing shipped
        has no rate (NULL: an empty cell rather than 0 or infinity)."""
        if aggregate_spec.split(":")[0] != "return_rate":
            return super()._read_group_select(aggregate_spec, query)
        return SQL(
            "100.0 * SUM(%(returned)s) / NULLIF(SUM(%(shipped)s), 0.0)",
            returned=self._field_to_sql(self._table, "qty_returned", query),
            shipped=self._field_to_sql(self._table, "qty_shipped", query),
        )
