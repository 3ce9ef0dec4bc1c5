from odoo import api, fields, models
from odoo.exceptions import ValidationError


class StockMoveLine(models.Model):
    _inherit = "stock.move.line"

    rma_condition = fields.Selection(related="lot_id.rma_condition", string="Condition")
    rma_grade_id = fields.Many2one(related="lot_id.rma_grade_id", string="Cosmetic Grade")

    @api.constrains("lot_id", "move_id")
    def _check_rma_condition(self):
        """A serial picked by hand on a delivery asking for a condition must be of it (what the reservation takes)."""
        for line in self.filtered(lambda line: line.lot_id and line.move_id.rma_condition):
            move, lot = line.move_id, line.lot_id
            if move.rma_condition == "new" and lot.rma_condition == "refurbished":
                raise ValidationError(
                    self.env._(
                        "%(serial)s is a refurbished unit (grade %(grade)s): %(move)s asks for new units.",
                        serial=lot.name,
                        grade=lot.rma_grade_id.display_name or "—",
                        move=move.reference or move.product_id.display_name,
                    )
                )
            if move.rma_condition == "refurbished" and (
                lot.rma_condition != "refurbished" or lot.rma_grade_id != move.rma_grade_id
            ):
                raise ValidationError(
                    self.env._(
                        "%(serial)s is not a refurbished unit of grade %(grade)s, which %(move)s asks for.",
                        serial=lot.name,
                        grade=move.rma_grade_id.display_name,
                        move=move.reference or move.product_id.display_name,
                    )
                )
