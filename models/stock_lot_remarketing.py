from odoo import fields, models

# A serial's condition when it is sold again: new (never returned, or returned to stock as new) or refurbished (a
# returned unit whose refurbishment or repair finished into graded stock), with its cosmetic grade.
CONDITIONS = [("new", "New"), ("refurbished", "Refurbished")]


class StockLot(models.Model):
    _inherit = "stock.lot"

    # Server-owned (readonly, rma_workflow_guard): written when the unit's work finishes or it is restocked.
    rma_condition = fields.Selection(
        CONDITIONS,
        string="Condition",
        default="new",
        readonly=True,
        copy=False,
        index=True,
        help="New: sold as new. Refurbished: sold from graded stock, by its grade, only to orders asking for it.",
    )
    rma_grade_id = fields.Many2one(
        "rma.grade", string="Cosmetic Grade", readonly=True, copy=False, index="btree_not_null"
    )

    def _rma_set_condition(self, condition, grade_by_lot):
        """Record the serials' condition and grade ({lot: grade}), one write per grade: server-owned fields, after
        the step that establishes them (rma.line._rma_set_lot_condition)."""
        for grade, lots in self.grouped(lambda lot: grade_by_lot.get(lot) or self.env["rma.grade"]).items():
            # Lots are stock managers' records; the unit's step (a technician's) records its serial's condition.
            lots.sudo().write({"rma_condition": condition, "rma_grade_id": grade.id})
