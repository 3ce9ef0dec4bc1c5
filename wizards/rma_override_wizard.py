from odoo import api, fields, models


class RmaOverrideWizard(models.TransientModel):
    _name = "rma.override.wizard"
    _inherit = ["rma.wizard.mixin"]
    _description = "Override RMA Flags"

    rma_ids = fields.Many2many(relation="rma_override_wizard_rma_rel")
    line_ids = fields.Many2many(
        "rma.line",
        string="Flagged Units",
        compute="_compute_line_ids",
        store=True,
        readonly=False,
        domain="[('rma_id', 'in', rma_ids), ('has_flag', '=', True)]",
    )

    @api.depends("rma_ids")
    def _compute_line_ids(self):
        for wizard in self:
            wizard.line_ids = wizard.rma_ids.line_ids.filtered(lambda line: line.has_flag and not line.is_overridden)

    def action_confirm(self):
        self.ensure_one()
        self.line_ids._action_override(self.reason)
        return {"type": "ir.actions.act_window_close"}
