from odoo import models


class StockRule(models.Model):
    _inherit = "stock.rule"

    def _get_stock_move_values(
        self, product_id, product_qty, product_uom, location_dest_id, name, origin, company_id, values
    ):
        move_values = super()._get_stock_move_values(
            product_id, product_qty, product_uom, location_dest_id, name, origin, company_id, values
        )
        condition = values.get("rma_condition")
        if not condition:
            return move_values
        move_values.update(rma_condition=condition, rma_grade_id=values.get("rma_grade_id", self.env["rma.grade"]).id)
        # Refurbished units are sold from graded stock (beside the warehouse's stock, not under it): the move that
        # takes them from the warehouse's stock takes them from its Graded / Remarketing location.
        warehouse = self.location_src_id.warehouse_id
        if (
            condition == "refurbished"
            and warehouse.rma_graded_location_id
            and self.location_src_id == warehouse.lot_stock_id
        ):
            move_values["location_id"] = warehouse.rma_graded_location_id.id
        return move_values
