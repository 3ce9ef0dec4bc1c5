from odoo import fields, models


class RmaRejectWizard(models.TransientModel):
    _name = "rma.reject.wizard"
    _inherit = ["rma.wizard.mixin"]
    _description = "Reject RMA"

    rma_ids = fields.Many2many(relation="rma_reject_wizard_rma_rel")

    def action_confirm(self):
        self.ensure_one()
        self.rma_ids.action_reject(self.reason)
        return {"type": "ir.actions.act_window_close"}
