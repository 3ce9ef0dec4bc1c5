from odoo import Command, api, fields, models
from odoo.exceptions import UserError


class RmaDispositionWizard(models.TransientModel):
    """Decide what happens to inspected units, one or many, from one or several RMAs."""

    _name = "rma.disposition.wizard"
    _inherit = ["rma.input.mixin"]
    _description = "Disposition Wizard"

    line_ids = fields.One2many("rma.disposition.wizard.line", "wizard_id", string="Units")
    note = fields.Text(help="Added to every unit's disposition note.")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if "line_ids" not in fields_list:
            return values
        context = self.env.context
        active_ids = context.get("active_ids") or []
        if not isinstance(active_ids, list) or not all(
            isinstance(record_id, int) and not isinstance(record_id, bool) and record_id > 0 for record_id in active_ids
        ):
            raise UserError(self.env._("Select the units or RMAs to dispose."))
        units = self.env["rma.line"]
        if context.get("active_model") == "rma.line":
            units = units.browse(active_ids).exists()
        elif context.get("active_model") == "rma.order":
            units = self.env["rma.order"].browse(active_ids).exists().line_ids
        units = units.filtered("can_be_disposed")
        if not units:
            raise UserError(self.env._("None of these units is inspected and waiting in quarantine."))
        values["line_ids"] = [
            Command.create({"unit_id": unit.id, "disposition_id": unit.suggested_disposition_id.id}) for unit in units
        ]
        return values

    def action_prepare(self):
        """A draft disposition batch of these units, for a manager to confirm."""
        batch = self._create_batch()
        return batch._get_records_action(name=self.env._("Disposition Batch"))

    def action_confirm(self):
        """The quick way: the batch is prepared and confirmed at once (refused where the company requires another
        manager to confirm). All or nothing: any error rolls back every move, entry and repair order."""
        with self.env.cr.savepoint():
            result = self._create_batch().action_confirm()
        # A batch above the company's threshold is confirmed in the background: its notification closes the wizard.
        return result if isinstance(result, dict) else {"type": "ir.actions.act_window_close"}

    def _create_batch(self):
        """A draft disposition batch of the wizard's units and values: the wizard only prepares, the batch acts."""
        self.ensure_one()
        value_fields = (
            "unit_id",
            "disposition_id",
            "repair_level",
            "net_realizable_value",
            "work_cost",
            "recovery_value",
            "note",
        )
        return self.env["rma.disposition.batch"].create(
            {
                "company_id": self.line_ids.unit_id.company_id[:1].id or self.env.company.id,
                "note": self.note,
                "line_ids": [
                    Command.create(line._convert_to_write({name: line[name] for name in value_fields}))
                    for line in self.line_ids
                ],
            }
        )


class RmaDispositionWizardLine(models.TransientModel):
    _name = "rma.disposition.wizard.line"
    _inherit = ["rma.disposition.values.mixin"]
    _description = "Disposition Wizard Unit"

    wizard_id = fields.Many2one("rma.disposition.wizard", required=True, ondelete="cascade")
    lot_id = fields.Many2one(related="unit_id.lot_id", string="Serial Number")
    company_id = fields.Many2one(related="unit_id.company_id")
    currency_id = fields.Many2one(related="unit_id.currency_id")
    receipt_value = fields.Monetary(related="unit_id.receipt_value")
