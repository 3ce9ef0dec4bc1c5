from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from .rma_workflow_guard import INSPECTOR_GROUP


class RmaLine(models.Model):
    """Inspection and grading of a returned unit."""

    _inherit = "rma.line"

    inspection_ids = fields.One2many("rma.inspection", "line_id", string="Inspections", readonly=True)
    inspection_id = fields.Many2one(
        "rma.inspection", compute="_compute_inspection_id", store=True, help="The last one."
    )
    grade_id = fields.Many2one(related="inspection_id.grade_id", string="Grade")
    inspection_start_date = fields.Datetime(related="inspection_id.date", string="Inspection Started", store=True)
    inspection_done_date = fields.Datetime(related="inspection_id.done_date", string="Inspection Finished", store=True)
    suggested_disposition_id = fields.Many2one(related="inspection_id.suggested_disposition_id")
    is_restocking_fee_eligible = fields.Boolean(related="inspection_id.is_restocking_fee_eligible")
    can_be_inspected = fields.Boolean(compute="_compute_can_be_inspected")

    @api.depends("inspection_ids.date")
    def _compute_inspection_id(self):
        for line in self:
            line.inspection_id = line.inspection_ids.sorted(lambda inspection: (inspection.date, inspection.id))[-1:]

    @api.depends("state")
    def _compute_can_be_inspected(self):
        for line in self:
            line.can_be_inspected = line.state == "received"

    def action_start_inspection(self):
        """Open an inspection for each unit: the unit is now In Inspection."""
        self._ensure_can_be_inspected()
        # The server opens them (unit, technician, date are its own fields): as superuser, after the guard.
        inspections = (
            self.env["rma.inspection"].sudo().create([{"line_id": line.id} for line in self]).with_env(self.env)
        )
        self._transition("inspection", note=self.env._("Inspection started"))
        return inspections._get_records_action(name=self.env._("Inspection"))

    def action_open_inspection(self):
        return self.inspection_id._get_records_action(name=self.env._("Inspection"))

    def _ensure_can_be_inspected(self):
        if not self.env.user.has_group(INSPECTOR_GROUP):
            raise AccessError(self.env._("Only Returns Inspectors inspect units."))
        not_ready = self.filtered(lambda line: not line.can_be_inspected)
        if not_ready:
            raise UserError(
                self.env._(
                    "Only received units waiting in quarantine can be inspected: %(units)s",
                    units=", ".join(not_ready.mapped("display_name")),
                )
            )
        held = self.filtered("is_substitution")
        if held:
            raise UserError(
                self.env._(
                    "%(units)s is held as a suspected substitution until a manager resolves it.",
                    units=", ".join(held.mapped("display_name")),
                )
            )
