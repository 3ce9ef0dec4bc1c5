from odoo import api, fields, models


class RmaOrder(models.Model):
    """The RMA's view of its units' dispositions: the wizard, the repair orders."""

    _inherit = "rma.order"

    repair_count = fields.Integer(compute="_compute_repair_count", string="Repair Orders")
    has_units_to_dispose = fields.Boolean(compute="_compute_has_units_to_dispose")

    @api.depends("line_ids.repair_id")
    def _compute_repair_count(self):
        for rma in self:
            rma.repair_count = len(rma.line_ids.repair_id)

    @api.depends("line_ids.can_be_disposed")
    def _compute_has_units_to_dispose(self):
        for rma in self:
            rma.has_units_to_dispose = any(rma.line_ids.mapped("can_be_disposed"))

    def action_open_disposition_wizard(self):
        return self.line_ids.filtered("can_be_disposed").action_open_disposition_wizard()

    def action_print_certificates(self):
        """The validated certificates of sanitization of the RMAs' units, in one PDF."""
        return self.line_ids.action_print_certificates()

    def action_view_repairs(self):
        return self.line_ids.repair_id._get_records_action(name=self.env._("Repair Orders"))
