from odoo import fields, models


class RmaUnblockWizard(models.TransientModel):
    """A manager lifts the reactivation block of serials, with the reason."""

    _name = "rma.unblock.wizard"
    _inherit = ["rma.input.mixin"]
    _description = "Lift Reactivation Block"

    lot_ids = fields.Many2many(
        "stock.lot", relation="rma_unblock_wizard_lot_rel", string="Serial Numbers", required=True
    )
    reason = fields.Text(required=True)

    def action_confirm(self):
        self.ensure_one()
        self.lot_ids._action_rma_unblock(self.reason)
        return {"type": "ir.actions.act_window_close"}
