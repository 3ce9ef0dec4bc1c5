from odoo import fields, models

from ..models.rma_workflow_guard import server_create


class RmaHarvestWizard(models.TransientModel):
    """The parts taken from a unit disposed to parts harvest, put into stock as their own products at their recovery
    value (contract: Dr stock of the part / Cr recovery clearing), up to the recovery value its disposition recorded
    (and credited to the recovery clearing account). Returns Inspectors harvest (the wizard's ACL)."""

    _name = "rma.harvest.wizard"
    _inherit = ["rma.input.mixin"]
    _description = "Harvest Parts"

    unit_id = fields.Many2one("rma.line", required=True, readonly=True)
    company_id = fields.Many2one(related="unit_id.company_id")
    currency_id = fields.Many2one(related="company_id.currency_id")
    part_ids = fields.One2many("rma.harvest.wizard.line", "wizard_id", string="Parts")

    def action_confirm(self):
        """One done move per part from the unit's Parts Harvest location into the warehouse's stock, valued at its
        recovery value, and the entry that clears the recovery."""
        self.ensure_one()
        unit, parts = self.unit_id, self.part_ids
        # Two harvests of one unit at once must not both fit under its recovery value: the second waits, then reads
        # what the first harvested.
        unit._lock_units()
        unit._ensure_can_harvest([(part.product_id, part.quantity, part.unit_value) for part in parts])
        # The moves name their unit (rma_harvest_line_id), a server-owned field: created after the guard.
        moves = server_create(self.env["stock.move"], parts._prepare_stock_move_vals())
        moves._action_confirm(merge=False)
        unit._create_move_values(
            {move: part.quantity * part.unit_value for move, part in zip(moves, parts, strict=True)}
        )
        for move, part in zip(moves, parts, strict=True):
            move.quantity = part.quantity
        moves.picked = True
        moves._action_done()
        self._post_harvest_entries(moves)
        unit.rma_id.message_post(
            body=self.env._(
                "Parts harvested from %(unit)s: %(parts)s.",
                unit=unit.display_name,
                parts=", ".join(f"{move.product_uom_qty:g} {move.product_id.display_name}" for move in moves),
            )
        )
        return {"type": "ir.actions.act_window_close"}

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
        unit = self.unit_id
        recovery = unit.disposition_id._get_accounts(unit.product_id, unit.company_id)["recovery"]
        items = self.env["account.move.line"]
        line_vals, analytic_cache = [], {}
        for move in moves:
            line_vals += items._rma_entry_line_vals(
                unit,
                move.location_id.valuation_account_id,
                recovery,
                abs(move.value),
                f"{items._rma_label(unit, 'PH')} {move.product_id.display_name}",
                quantity=move.quantity,
                analytic_cache=analytic_cache,
            )
        self.env["account.move"]._rma_create_entry(unit.company_id, line_vals, unit.rma_id.name)


class RmaHarvestWizardLine(models.TransientModel):
    _name = "rma.harvest.wizard.line"
    _inherit = ["rma.input.mixin"]
    _description = "Harvested Part"

    wizard_id = fields.Many2one("rma.harvest.wizard", required=True, ondelete="cascade")
    product_id = fields.Many2one(
        "product.product",
        string="Part",
        required=True,
        domain="[('is_storable', '=', True), ('tracking', '=', 'none')]",
    )
    quantity = fields.Float(default=1.0, digits="Product Unit", required=True)
    currency_id = fields.Many2one(related="wizard_id.currency_id")
    unit_value = fields.Monetary(
        string="Recovery Value (each)", currency_field="currency_id", help="The value of one part, into stock."
    )

    def _prepare_stock_move_vals(self):
        """The parts' moves from the unit's Parts Harvest location into its warehouse's stock."""
        return [
            {
                "product_id": part.product_id.id,
                "product_uom_qty": part.quantity,
                "product_uom": part.product_id.uom_id.id,
                "location_id": part.wizard_id.unit_id.location_id.id,
                "location_dest_id": part.wizard_id.unit_id.rma_id.warehouse_id.lot_stock_id.id,
                "company_id": part.wizard_id.company_id.id,
                "origin": part.wizard_id.unit_id.rma_id.name,
                "rma_harvest_line_id": part.wizard_id.unit_id.id,
            }
            for part in self
        ]
