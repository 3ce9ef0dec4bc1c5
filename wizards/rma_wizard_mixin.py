from odoo import api, fields, models


class RmaWizardMixin(models.AbstractModel):
    """Base of the RMA decision wizards: the targeted RMAs, taken once from the context when opened."""

    _name = "rma.wizard.mixin"
    _inherit = ["rma.input.mixin"]
    _description = "RMA Decision Wizard Base"

    rma_ids = fields.Many2many("rma.order", string="RMAs", required=True)
    reason = fields.Text(required=True)

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if "rma_ids" in fields_list and self.env.context.get("active_model") == "rma.order":
            values["rma_ids"] = [fields.Command.set(self.env.context.get("active_ids", []))]
        return values
