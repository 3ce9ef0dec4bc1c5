from odoo import fields, models


class RmaHarvestWizard(models.TransientModel):
    """The parts taken from a unit disposed to parts harvest, put into stock at their recovery value."""

    _name = "rma.harvest.wizard"
    _inherit = ["rma.input.mixin"]
    _description = "Harvest Parts"

    unit_id = fields.Many2one("rma.line", required=True, readonly=True)
    company_id = fields.Many2one(related="unit_id.company_id")
    currency_id = fields.Many2one(related="company_id.currency_id")
    part_ids = fields.One2many("rma.harvest.wizard.line", "wizard_id", string="Parts")

    def action_confirm(self):
        self.ensure_one()
        # Two harvests of one unit at once must not both fit under its recovery value: the second waits, then reads
        # what the first harvested.
        self.unit_id._lock_units()
        self.unit_id._action_harvest_parts(
            [(part.product_id, part.quantity, part.unit_value) for part in self.part_ids]
        )
        return {"type": "ir.actions.act_window_close"}


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
