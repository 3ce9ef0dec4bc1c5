from odoo import api, fields, models
from odoo.tools import SQL

# Turnaround stages: (field of hours, start date column, end date column), in the unit's order.
STAGES = (
    ("hours_to_receive", "authorized_date", "received_date"),
    ("hours_to_inspect", "received_date", "inspection_done_date"),
    ("hours_to_dispose", "inspection_done_date", "disposition_date"),
    ("hours_to_close", "disposition_date", "closed_date"),
    ("hours_total", "authorized_date", "closed_date"),
)


class RmaKpiUnit(models.Model):
    """One row per authorized RMA unit, for the turnaround and recovery-value KPIs (README, "KPIs").

    Turnaround: hours between the server-set stage times. Recovery value: what the disposition recovered, against
    the unit's original cost (the value Odoo gave its receipt): the unit's recovered value, by the one rule the
    disposition batch prints too (rma.disposition._get_recovered_value: RTS at book value; REF/REP the net
    realizable value less the work cost; PH/REC the recovery value; SD nothing)."""

    _name = "rma.kpi.unit"
    _description = "Returns KPI: Units"
    _auto = False
    _order = "authorized_date desc"
    # What the view reads: flushed before it is queried.
    _depends = {
        "rma.line": [
            "company_id",
            "rma_id",
            "product_id",
            "disposition_id",
            "state",
            "quantity",
            "authorized_date",
            "received_date",
            "inspection_done_date",
            "disposition_date",
            "closed_date",
            "recovered_value",
        ],
        "rma.order": ["warehouse_id", "partner_id", "reason_id"],
        "stock.move": ["value", "state", "rma_line_id", "location_id"],
    }

    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    warehouse_id = fields.Many2one("stock.warehouse", readonly=True)
    rma_id = fields.Many2one("rma.order", string="RMA", readonly=True)
    unit_id = fields.Many2one("rma.line", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    product_id = fields.Many2one("product.product", readonly=True)
    categ_id = fields.Many2one("product.category", string="Product Category", readonly=True)
    reason_id = fields.Many2one("rma.reason", string="Return Reason", readonly=True)
    disposition_id = fields.Many2one("rma.disposition", readonly=True)
    state = fields.Selection(
        lambda self: self.env["rma.line"]._fields["state"].selection, string="Status", readonly=True
    )
    quantity = fields.Float(readonly=True, aggregator="sum")
    authorized_date = fields.Datetime(string="Authorized On", readonly=True)
    received_date = fields.Datetime(string="Received On", readonly=True)
    inspection_done_date = fields.Datetime(string="Inspected On", readonly=True)
    disposition_date = fields.Datetime(string="Disposed On", readonly=True)
    closed_date = fields.Datetime(string="Closed On", readonly=True)
    hours_to_receive = fields.Float(string="Hours to Receive", readonly=True, aggregator="avg")
    hours_to_inspect = fields.Float(string="Hours to Inspect", readonly=True, aggregator="avg")
    hours_to_dispose = fields.Float(string="Hours to Dispose", readonly=True, aggregator="avg")
    hours_to_close = fields.Float(string="Hours to Close", readonly=True, aggregator="avg")
    hours_total = fields.Float(string="Hours End to End", readonly=True, aggregator="avg")
    original_cost = fields.Monetary(readonly=True, aggregator="sum", help="The value Odoo gave the unit's receipt.")
    recovered_value = fields.Monetary(readonly=True, aggregator="sum")

    @property
    def _table_query(self):
        hours = SQL(", ").join(
            SQL(
                "EXTRACT(EPOCH FROM (%s - %s)) / 3600.0 AS %s",
                SQL.identifier("line", end),
                SQL.identifier("line", start),
                SQL.identifier(name),
            )
            for name, start, end in STAGES
        )
        # LEFT JOINs on required keys (the same rows as inner joins): PostgreSQL drops those a query does not read
        # (a pivot of hours by disposition reads rma_line alone). A unit's receipt value is summed from its own moves
        # (LATERAL, by the moves' unit index): a period's pivot reads the period's units, not every receipt ever made.
        return SQL(
            """
            SELECT line.id AS id, line.id AS unit_id, line.company_id, company.currency_id, rma.warehouse_id,
                   line.rma_id, rma.partner_id, line.product_id, template.categ_id, rma.reason_id,
                   line.disposition_id, line.state, line.quantity,
                   line.authorized_date, line.received_date, line.inspection_done_date, line.disposition_date,
                   line.closed_date, %(hours)s,
                   COALESCE(receipt.value, 0.0) AS original_cost,
                   COALESCE(line.recovered_value, 0.0) AS recovered_value
              FROM rma_line line
              LEFT JOIN rma_order rma ON rma.id = line.rma_id
              LEFT JOIN res_company company ON company.id = line.company_id
              LEFT JOIN product_product product ON product.id = line.product_id
              LEFT JOIN product_template template ON template.id = product.product_tmpl_id
              LEFT JOIN LATERAL (
                   SELECT SUM(move.value) AS value
                     FROM stock_move move
                     JOIN stock_location source ON source.id = move.location_id
                    WHERE move.rma_line_id = line.id AND move.state = 'done' AND source.usage = 'customer'
              ) receipt ON TRUE
             WHERE line.authorized_date IS NOT NULL
            """,
            hours=hours,
        )

    @api.model
    def _kpi_summary(self, company, date_from, date_to, warehouse=None):
        """The four KPIs of ``company`` (and ``warehouse``) for units authorized, or goods shipped, in the period:
        return rate, recovery value %, turnaround per stage (average, median, 90th percentile, in hours) and the
        stock-accuracy delta; with ``unit_count`` (units authorized) and ``count_lines`` (counts applied in the
        return locations), so that a reader can tell a 0 measured from nothing to measure."""
        start = fields.Datetime.to_datetime(date_from)
        end = fields.Datetime.to_datetime(fields.Date.add(date_to, days=1))
        rate = self.env["rma.kpi.return.rate"]._read_group(
            [("company_id", "=", company.id), ("date", ">=", start), ("date", "<", end)]
            + ([("warehouse_id", "=", warehouse.id)] if warehouse else []),
            [],
            ["qty_shipped:sum", "qty_returned:sum"],
        )[0]
        shipped, returned = (value or 0.0 for value in rate)
        # One pass over the view: the recovery of the units disposed, and each stage's statistics.
        stage_columns = SQL(", ").join(
            SQL(
                "COUNT(%(name)s), AVG(%(name)s), PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY %(name)s),"
                " PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY %(name)s)",
                name=SQL.identifier(name),
            )
            for name, _start, _end in STAGES
        )
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "SELECT COUNT(*), COALESCE(SUM(original_cost) FILTER (WHERE disposition_id IS NOT NULL), 0),"
                " COALESCE(SUM(recovered_value) FILTER (WHERE disposition_id IS NOT NULL), 0), %s"
                " FROM (%s) kpi WHERE company_id = %s AND authorized_date >= %s AND authorized_date < %s %s",
                stage_columns,
                self._table_query,
                company.id,
                start,
                end,
                SQL("AND warehouse_id = %s", warehouse.id) if warehouse else SQL(),
            )
        )
        unit_count, original_cost, recovered, *stats = self.env.cr.fetchone()
        turnaround = {
            name: dict(zip(("count", "average", "median", "p90"), stats[4 * index : 4 * index + 4], strict=True))
            for index, (name, _start, _end) in enumerate(STAGES)
        }
        return {
            "units_shipped": shipped,
            "units_returned": returned,
            "unit_count": unit_count,
            "return_rate": 100.0 * returned / shipped if shipped else 0.0,
            "original_cost": original_cost,
            "recovered_value": recovered,
            "recovery_pct": 100.0 * recovered / original_cost if original_cost else 0.0,
            "turnaround": turnaround,
            **self._stock_accuracy(company, start, end, warehouse),
        }

    @api.model
    def _stock_accuracy(self, company, start, end, warehouse=None):
        """Counted minus system quantity in the return locations (Odoo's inventory adjustments there in the period,
        ``rma.kpi.stock.accuracy``), and the stock value against the ledger (all stock valuation accounts, now)."""
        count_lines, count_delta, count_value_delta = self.env["rma.kpi.stock.accuracy"]._read_group(
            [("company_id", "=", company.id), ("date", ">=", start), ("date", "<", end)]
            + ([("warehouse_id", "=", warehouse.id)] if warehouse else []),
            [],
            ["__count", "quantity_delta:sum", "value_delta:sum"],
        )[0]
        # As superuser (the KPI report's, the scheduled report's): the stock values read the valuation records
        value, ledger = company.stock_value(), company.stock_accounting_value()
        return {
            "count_lines": count_lines,
            "count_delta": count_delta or 0.0,
            "count_value_delta": count_value_delta or 0.0,
            "value_ledger_difference": company.currency_id.round(sum(value.values()) - sum(ledger.values())),
        }
