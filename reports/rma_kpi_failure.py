from odoo import fields, models
from odoo.tools import SQL


class RmaKpiFailure(models.Model):
    """One row per failure code found at a finished inspection: the failure-code Pareto per product (grouped by
    code, sorted by count), the quality signal the workflow asks to review."""

    _name = "rma.kpi.failure"
    _description = "Returns KPI: Failure Codes"
    _auto = False
    _order = "date desc"
    # What the view reads: flushed before it is queried.
    _depends = {
        "rma.inspection": ["done_date", "state", "line_id", "grade_id", "failure_code_ids"],
        "rma.line": ["company_id", "product_id", "rma_id"],
        "rma.order": ["warehouse_id", "reason_id"],
    }

    date = fields.Datetime(string="Inspected On", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    warehouse_id = fields.Many2one("stock.warehouse", readonly=True)
    product_id = fields.Many2one("product.product", readonly=True)
    categ_id = fields.Many2one("product.category", string="Product Category", readonly=True)
    reason_id = fields.Many2one("rma.reason", string="Return Reason", readonly=True)
    failure_code_id = fields.Many2one("rma.failure.code", readonly=True)
    grade_id = fields.Many2one("rma.grade", readonly=True)
    unit_count = fields.Integer(string="Units", readonly=True, aggregator="sum")

    @property
    def _table_query(self):
        return SQL(
            """
            SELECT ROW_NUMBER() OVER (ORDER BY rel.rma_inspection_id, rel.rma_failure_code_id) AS id,
                   inspection.done_date AS date, line.company_id, rma.warehouse_id, line.product_id,
                   template.categ_id, rma.reason_id, rel.rma_failure_code_id AS failure_code_id,
                   inspection.grade_id, 1 AS unit_count
              FROM rma_failure_code_rma_inspection_rel rel
              JOIN rma_inspection inspection ON inspection.id = rel.rma_inspection_id
              JOIN rma_line line ON line.id = inspection.line_id
              JOIN rma_order rma ON rma.id = line.rma_id
              JOIN product_product product ON product.id = line.product_id
              JOIN product_template template ON template.id = product.product_tmpl_id
             WHERE inspection.state = 'done'
            """
        )
