from odoo import api, fields, models
from odoo.tools import SQL


class RmaRemarketingReport(models.Model):
    """One row per unit that reached graded stock: its grade and channel, the net realizable value booked at its
    disposition and, once sold, the realized value (the posted customer invoice line's price of its sale, found
    through the delivery move that took it out of graded stock, less the channel's selling cost): the realized
    recovery KPI is realized value / NRV of the units sold (_realized_recovery)."""

    _name = "rma.remarketing.report"
    _description = "Returns KPI: Remarketing by Grade and Channel"
    _auto = False
    _order = "work_finished_date desc"
    _depends = {
        "rma.line": [
            "company_id",
            "product_id",
            "inspection_id",
            "state",
            "net_realizable_value",
            "work_finished_date",
            "remarketing_channel_id",
            "remarketing_move_id",
        ],
        "rma.inspection": ["grade_id"],
        "rma.remarketing.channel": ["selling_cost_percent", "selling_cost_fixed"],
        "stock.move": ["sale_line_id", "location_dest_id"],
        "account.move.line": ["balance", "quantity", "move_id", "parent_state"],
        "account.move": ["move_type"],
    }

    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    unit_id = fields.Many2one("rma.line", readonly=True)
    lot_id = fields.Many2one("stock.lot", string="Serial Number", readonly=True)
    product_id = fields.Many2one("product.product", readonly=True)
    grade_id = fields.Many2one("rma.grade", string="Cosmetic Grade", readonly=True)
    channel_id = fields.Many2one("rma.remarketing.channel", readonly=True)
    work_finished_date = fields.Datetime(string="Graded On", readonly=True)
    status = fields.Selection(
        [("in_stock", "In Graded Stock"), ("sold", "Sold"), ("left", "Left Otherwise")], readonly=True
    )
    sale_line_id = fields.Many2one("sale.order.line", readonly=True)
    unit_count = fields.Integer(string="Units", readonly=True, aggregator="sum")
    sold_count = fields.Integer(string="Units Sold", readonly=True, aggregator="sum")
    net_realizable_value = fields.Monetary(string="NRV", readonly=True, aggregator="sum")
    sold_nrv = fields.Monetary(string="NRV of Units Sold", readonly=True, aggregator="sum")
    sale_price = fields.Monetary(readonly=True, aggregator="sum", help="The posted customer invoice line's price.")
    selling_cost = fields.Monetary(readonly=True, aggregator="sum")
    realized_value = fields.Monetary(readonly=True, aggregator="sum", help="Sale price less the channel's costs.")
    realized_recovery = fields.Float(
        string="Realized Recovery (%)",
        readonly=True,
        aggregator="avg",
        help="Realized value / NRV of a sold unit (groups: the average of their units; the KPI itself weighs by NRV).",
    )

    @property
    def _table_query(self):
        return SQL(
            """
            SELECT line.id AS id, line.id AS unit_id, line.company_id, company.currency_id, line.lot_id,
                   line.product_id, inspection.grade_id, line.remarketing_channel_id AS channel_id,
                   line.work_finished_date, move.sale_line_id, 1 AS unit_count,
                   CASE WHEN invoiced.price IS NOT NULL THEN 1 ELSE 0 END AS sold_count,
                   CASE WHEN invoiced.price IS NOT NULL THEN 'sold'
                        WHEN line.remarketing_move_id IS NOT NULL OR line.state != 'ready' THEN 'left'
                        ELSE 'in_stock' END AS status,
                   COALESCE(line.net_realizable_value, 0.0) AS net_realizable_value,
                   CASE WHEN invoiced.price IS NOT NULL THEN COALESCE(line.net_realizable_value, 0.0) ELSE 0.0 END
                       AS sold_nrv,
                   COALESCE(invoiced.price, 0.0) AS sale_price,
                   COALESCE(cost.amount, 0.0) AS selling_cost,
                   COALESCE(invoiced.price - cost.amount, 0.0) AS realized_value,
                   CASE WHEN invoiced.price IS NOT NULL AND line.net_realizable_value > 0
                        THEN 100.0 * (invoiced.price - cost.amount) / line.net_realizable_value END AS realized_recovery
              FROM rma_line line
              JOIN res_company company ON company.id = line.company_id
              LEFT JOIN rma_inspection inspection ON inspection.id = line.inspection_id
              LEFT JOIN rma_remarketing_channel channel ON channel.id = line.remarketing_channel_id
              LEFT JOIN stock_move move ON move.id = line.remarketing_move_id
              LEFT JOIN LATERAL (
                   -- The unit's price: its sale line's posted customer invoice lines, per unit invoiced.
                   SELECT ROUND((SUM(-aml.balance) / NULLIF(SUM(aml.quantity), 0))::numeric, 2) AS price
                     FROM sale_order_line_invoice_rel rel
                     JOIN account_move_line aml ON aml.id = rel.invoice_line_id
                     JOIN account_move invoice ON invoice.id = aml.move_id
                    WHERE rel.order_line_id = move.sale_line_id AND invoice.state = 'posted'
                      AND invoice.move_type = 'out_invoice'
              ) invoiced ON TRUE
              LEFT JOIN LATERAL (
                   SELECT ROUND((invoiced.price * COALESCE(channel.selling_cost_percent, 0) / 100.0
                          + COALESCE(channel.selling_cost_fixed, 0))::numeric, 2) AS amount
              ) cost ON TRUE
             WHERE line.work_finished_date IS NOT NULL
            """
        )

    @api.model
    def _realized_recovery(self, domain):
        """The realized recovery KPI of the units sold in ``domain``: realized value / their NRV, in %
        (None: nothing sold)."""
        realized, nrv = self._read_group(
            [*domain, ("status", "=", "sold")], [], ["realized_value:sum", "sold_nrv:sum"]
        )[0]
        return 100.0 * realized / nrv if nrv else None
