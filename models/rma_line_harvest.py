from odoo import fields, models
from odoo.exceptions import AccessError, UserError

from .rma_workflow_guard import INSPECTOR_GROUP


class RmaLine(models.Model):
    """Parts harvest: components taken from a harvested unit go into stock as their own products, at their
    recovery value (contract: Dr stock of the part / Cr recovery clearing), up to the recovery value its disposition
    recorded (and credited to the recovery clearing account)."""

    _inherit = "rma.line"

    harvest_move_ids = fields.One2many(
        "stock.move", "rma_harvest_line_id", string="Harvested Parts", readonly=True, copy=False
    )

    def action_open_harvest_wizard(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Harvest Parts"),
            "res_model": "rma.harvest.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_unit_id": self.id},
        }

    def action_view_harvested_parts(self):
        return self.harvest_move_ids._get_records_action(name=self.env._("Harvested Parts"))

    def _action_harvest_parts(self, parts):
        """``parts``: [(product, quantity, value of one)]. One done move per part from the unit's Parts Harvest
        location into the warehouse's stock, valued at its recovery value; returns the moves."""
        self._ensure_can_harvest(parts)
        self._ensure_within_recovery_value(sum(quantity * value for _product, quantity, value in parts))
        stock = self.rma_id.warehouse_id.lot_stock_id
        moves = (
            self.env["stock.move"]
            .sudo()
            .create(
                [
                    {
                        "product_id": product.id,
                        "product_uom_qty": quantity,
                        "product_uom": product.uom_id.id,
                        "location_id": self.location_id.id,
                        "location_dest_id": stock.id,
                        "company_id": self.company_id.id,
                        "origin": self.rma_id.name,
                        "rma_harvest_line_id": self.id,
                    }
                    for product, quantity, _value in parts
                ]
            )
        )
        moves._action_confirm(merge=False)
        self.env["product.value"].sudo().create(
            [
                {"move_id": move.id, "value": quantity * value, "company_id": move.company_id.id}
                for move, (_product, quantity, value) in zip(moves, parts, strict=True)
            ]
        )
        for move, (_product, quantity, _value) in zip(moves, parts, strict=True):
            move.quantity = quantity
        moves.picked = True
        moves._action_done()
        self._post_harvest_entries(moves)
        self.rma_id.message_post(
            body=self.env._(
                "Parts harvested from %(unit)s: %(parts)s.",
                unit=self.display_name,
                parts=", ".join(f"{move.product_uom_qty:g} {move.product_id.display_name}" for move in moves),
            )
        )
        return moves.with_env(self.env)

    def _ensure_can_harvest(self, parts):
        self.ensure_one()
        if not self.env.user.has_group(INSPECTOR_GROUP):
            raise AccessError(self.env._("Only Returns Inspectors record harvested parts."))
        if self.state != "closed" or self.disposition_id.destination != "rma_harvest_location_id":
            raise UserError(
                self.env._(
                    "Parts are harvested from a unit disposed to parts harvest (PH): %(unit)s is not.",
                    unit=self.display_name,
                )
            )
        if not parts:
            raise UserError(self.env._("Add the harvested parts."))
        for product, quantity, value in parts:
            if product.type != "consu" or not product.is_storable or product.tracking != "none":
                raise UserError(
                    self.env._(
                        "%(product)s: a harvested part is a storable product without serial numbers.",
                        product=product.display_name,
                    )
                )
            if quantity <= 0 or value < 0:
                raise UserError(
                    self.env._(
                        "%(product)s: enter a positive quantity and a value of zero or more.",
                        product=product.display_name,
                    )
                )

    def _ensure_within_recovery_value(self, value):
        """The parts taken from a unit are worth, all harvests together, at most the recovery value its disposition
        recorded: that is what the disposition credited to recovery income and debited to the recovery clearing
        account, which the parts' value clears."""
        self.ensure_one()
        currency = self.company_id.currency_id
        # Inspectors need not read stock valuation: the moves' values decide.
        harvested = sum(self.sudo().harvest_move_ids.filtered(lambda move: move.state == "done").mapped("value"))
        if currency.compare_amounts(harvested + value, self.recovery_value) > 0:
            raise UserError(
                self.env._(
                    "The parts harvested from %(unit)s are worth at most its recovery value, %(cap)s: %(harvested)s"
                    " were harvested already, and these parts are worth %(value)s.",
                    unit=self.display_name,
                    cap=currency.format(self.recovery_value),
                    harvested=currency.format(harvested),
                    value=currency.format(value),
                )
            )

    def _post_harvest_entries(self, moves):
        """Odoo posts Dr stock / Cr the harvest location's account (disposal expense) at the parts' value: at the move
        in perpetual valuation, at the stock closing (its reclassification of the moves out of that location) in
        periodic valuation. The addon moves that credit to the recovery clearing account, Dr disposal expense / Cr
        recovery clearing, in both modes: neither line is on a stock valuation account (contract, periodic
        valuation), and the clearing account holds nothing more for the unit once its parts are in stock."""
        moves = moves.filtered(
            lambda move: move.location_id.valuation_account_id and not move.company_currency_id.is_zero(move.value)
        )
        if not moves:
            return
        workflow = self.sudo()
        recovery = workflow.disposition_id._get_accounts(self.product_id, self.company_id)["recovery"]
        line_vals, analytic_cache = [], {}
        for move in moves:
            line_vals += workflow._prepare_entry_line_vals(
                move.location_id.valuation_account_id,
                recovery,
                abs(move.value),
                f"{workflow._entry_label('PH')} {move.product_id.display_name}",
                move,
                analytic_cache,
            )
        workflow._create_entry(self.company_id, line_vals, self.rma_id.name)
