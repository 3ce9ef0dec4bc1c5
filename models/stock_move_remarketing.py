from odoo import api, fields, models
from odoo.fields import Domain

from .rma_server_context import server_context
from .rma_workflow_guard import server_owned
from .stock_lot_remarketing import CONDITIONS


class StockMove(models.Model):
    """The condition a delivery asks for (its sale line's): Odoo's reservation takes only serials of it."""

    _inherit = "stock.move"

    rma_condition = fields.Selection(
        CONDITIONS,
        string="Condition",
        readonly=True,
        copy=False,
        help="Set from the sale line: New reserves only serials sold as new, Refurbished only graded serials of the"
        " grade. Empty: any serial.",
    )
    rma_grade_id = fields.Many2one("rma.grade", string="Cosmetic Grade", readonly=True, copy=False)

    @api.model
    def _prepare_merge_moves_distinct_fields(self):
        return [*super()._prepare_merge_moves_distinct_fields(), "rma_condition", "rma_grade_id"]

    def _prepare_move_split_vals(self, qty):
        # A backorder asks for the condition its move asked for.
        vals = super()._prepare_move_split_vals(qty)
        if self.rma_condition:
            vals.update(rma_condition=self.rma_condition, rma_grade_id=self.rma_grade_id.id)
        return vals

    def _create_backorder(self):
        # The condition carried to the backorder (_prepare_move_split_vals) is a field only the server writes:
        # whoever validates the delivery, the server's step.
        conditioned = self.filtered("rma_condition")
        if not conditioned:
            return super()._create_backorder()
        backorder_moves = super(StockMove, self - conditioned)._create_backorder()
        return backorder_moves | super(StockMove, server_owned(conditioned))._create_backorder().with_env(self.env)

    def _prepare_procurement_values(self):
        # A multi-step delivery: the pick move asks for the same condition as the ship move it feeds.
        values = super()._prepare_procurement_values()
        if self.rma_condition:
            values.update(rma_condition=self.rma_condition, rma_grade_id=self.rma_grade_id)
        return values

    def _rma_lot_domain(self):
        """The quants' condition the move may reserve, or None (any): a domain on stock.quant."""
        self.ensure_one()
        if self.rma_condition == "new":
            return Domain("lot_id", "=", False) | Domain("lot_id.rma_condition", "!=", "refurbished")
        if self.rma_condition == "refurbished":
            return Domain("lot_id.rma_condition", "=", "refurbished") & Domain(
                "lot_id.rma_grade_id", "=", self.rma_grade_id.id
            )
        return None

    def _rma_with_lot_domain(self):
        """The move whose quant searches (stock.quant._get_gather_domain) keep to its condition: a server-only
        context value, which no client can send."""
        domain = self._rma_lot_domain()
        return self.with_context(**server_context(rma_lot_domain=domain)) if domain is not None else self

    def _update_reserved_quantity_vals(
        self, need, location_id, lot_id=None, package_id=None, owner_id=None, strict=True
    ):
        moves = self._rma_with_lot_domain()
        return super(StockMove, moves)._update_reserved_quantity_vals(
            need, location_id, lot_id=lot_id, package_id=package_id, owner_id=owner_id, strict=strict
        )

    def _get_available_quantity(
        self, location_id, lot_id=None, package_id=None, owner_id=None, strict=False, allow_negative=False
    ):
        moves = self._rma_with_lot_domain()
        return super(StockMove, moves)._get_available_quantity(
            location_id,
            lot_id=lot_id,
            package_id=package_id,
            owner_id=owner_id,
            strict=strict,
            allow_negative=allow_negative,
        )
