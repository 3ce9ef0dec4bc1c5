from odoo import api, fields, models

from ..models.rma_line import REMEDIES


class RmaRemedyWizard(models.TransientModel):
    """A manager confirms, or changes, the remedy of inspected units."""

    _name = "rma.remedy.wizard"
    _inherit = ["rma.input.mixin"]
    _description = "Confirm Remedy"

    line_ids = fields.Many2many("rma.line", relation="rma_remedy_wizard_line_rel", string="Units", required=True)
    remedy = fields.Selection(REMEDIES, required=True)
    replacement_product_id = fields.Many2one(
        "product.product",
        domain="[('type', '=', 'consu')]",
        help="The product sent in place of the units. Empty: each unit keeps its own (the same product by default).",
    )

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if self.env.context.get("active_model") == "rma.line":
            lines = self.env["rma.line"].browse(self.env.context.get("active_ids", [])).exists()
            if "line_ids" in fields_list:
                values["line_ids"] = [fields.Command.set(lines.ids)]
            if "remedy" in fields_list and len(set(lines.mapped("remedy"))) == 1:
                values["remedy"] = lines[:1].remedy
            # The units' common replacement product, shown to the manager who confirms it.
            products = {line.replacement_product_id for line in lines}
            if "replacement_product_id" in fields_list and len(products) == 1:
                values["replacement_product_id"] = products.pop().id
        return values

    def action_confirm(self):
        self.ensure_one()
        self.line_ids.rma_id._confirm_remedy(self.line_ids, self.remedy, self.replacement_product_id)
        return {"type": "ir.actions.act_window_close"}
