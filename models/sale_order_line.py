from odoo import api, fields, models
from odoo.exceptions import UserError


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    rma_grade_id = fields.Many2one(
        "rma.grade",
        string="Condition",
        help="Empty: new units. A grade: refurbished units of that grade, delivered from graded stock and priced by"
        " the pricelist's rule for the grade.",
    )

    @api.depends("rma_grade_id")
    def _compute_pricelist_item_id(self):  # pylint: disable=missing-return
        super()._compute_pricelist_item_id()

    @api.depends("rma_grade_id")
    def _compute_price_unit(self):  # pylint: disable=missing-return
        super()._compute_price_unit()

    def write(self, vals):
        if "rma_grade_id" in vals and self.filtered(
            lambda line: line.move_ids and line.rma_grade_id.id != vals["rma_grade_id"]
        ):
            raise UserError(
                self.env._("The condition of a line is fixed once its delivery exists: add a line for another one.")
            )
        return super().write(vals)

    def _get_pricelist_kwargs(self):
        # The pricelist's rule for the grade applies (product.pricelist._get_applicable_rules).
        return {**super()._get_pricelist_kwargs(), "rma_grade": self.rma_grade_id}

    def _prepare_procurement_values(self):
        values = super()._prepare_procurement_values()
        if self.product_id.is_storable:
            values.update(rma_condition="refurbished" if self.rma_grade_id else "new", rma_grade_id=self.rma_grade_id)
        return values
