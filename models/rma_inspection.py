from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from .rma_workflow_guard import MANAGER_GROUP, ensure_workflow_fields, server_write


class RmaInspection(models.Model):
    """A technician's cosmetic and functional findings on one returned unit."""

    _name = "rma.inspection"
    _description = "Unit Inspection"
    _inherit = ["mail.thread", "rma.input.mixin"]
    _order = "date desc, id desc"
    _check_company_auto = True
    # Opened by the unit's action (rma.line.action_start_inspection, which checks the unit first), finished by
    # action_done: the unit, who, when and the state are readonly, so the server's (see rma_workflow_guard).

    line_id = fields.Many2one("rma.line", string="Unit", required=True, readonly=True, index=True, ondelete="restrict")
    rma_id = fields.Many2one(related="line_id.rma_id", store=True, index=True)
    company_id = fields.Many2one(related="line_id.company_id", store=True, index=True)
    product_id = fields.Many2one(related="line_id.product_id")
    lot_id = fields.Many2one(related="line_id.lot_id", string="Serial Number")
    state = fields.Selection(
        [("draft", "In Progress"), ("done", "Done")],
        readonly=True,
        copy=False,
        index=True,
        default="draft",
        tracking=True,
        help="In Progress: the technician is testing the unit.\nDone: the findings are recorded and final.",
    )
    technician_id = fields.Many2one(
        "res.users",
        required=True,
        readonly=True,
        default=lambda self: self.env.user,
        tracking=True,
        help="The inspector who opened the inspection; only they (or a manager) can finish it.",
    )
    date = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now, help="Set by the server.")
    done_date = fields.Datetime(string="Finished On", readonly=True, copy=False, help="Set by the server.")

    # ------------------------------------------------------------------
    # Findings
    # ------------------------------------------------------------------
    grade_id = fields.Many2one("rma.grade", string="Cosmetic Grade", check_company=True, tracking=True)
    functional_result = fields.Selection(
        [("pass", "Pass"), ("fail", "Fail"), ("not_testable", "Not Testable")],
        string="Functional Test",
        tracking=True,
    )
    failure_code_ids = fields.Many2many("rma.failure.code", string="Failure Codes", check_company=True)
    is_data_bearing = fields.Boolean(string="Data-Bearing Device", help="The unit stores data (disk, flash, SIM).")
    data_security = fields.Selection(
        [("none", "None"), ("wipe", "Wipe (NIST SP 800-88 Purge/Clear)"), ("destroy", "Destroy")],
        string="Data Security Requirement",
        default="none",
        required=True,
        tracking=True,
    )
    notes = fields.Html()
    photo_ids = fields.Many2many(
        "ir.attachment", "rma_inspection_photo_rel", "inspection_id", "attachment_id", string="Photos"
    )

    # ------------------------------------------------------------------
    # Consequences
    # ------------------------------------------------------------------
    is_restocking_fee_eligible = fields.Boolean(
        string="Restocking Fee Eligible", compute="_compute_restocking_fee", store=True
    )
    restocking_fee_percent = fields.Float(string="Restocking Fee (%)", compute="_compute_restocking_fee", store=True)
    restocking_rule_id = fields.Many2one(
        "rma.restocking.rule",
        string="Restocking Fee Rule",
        compute="_compute_restocking_fee",
        store=True,
        help="The rule that made the unit eligible: it prices the fee line of the unit's credit note.",
    )
    suggested_disposition_id = fields.Many2one("rma.disposition", compute="_compute_suggested_disposition", store=True)

    @api.depends("line_id.display_name", "date")
    def _compute_display_name(self):
        for inspection in self:
            inspection.display_name = self.env._("Inspection of %(unit)s", unit=inspection.line_id.display_name)

    @api.depends("grade_id", "rma_id.reason_id")
    def _compute_restocking_fee(self):
        matches = self.env["rma.restocking.rule"]._evaluate(self)
        for inspection in self:
            rule = matches[inspection]
            inspection.is_restocking_fee_eligible = bool(rule) and rule.is_fee_eligible
            inspection.restocking_fee_percent = rule.fee_percent if inspection.is_restocking_fee_eligible else 0.0
            inspection.restocking_rule_id = rule if inspection.is_restocking_fee_eligible else False

    @api.depends("grade_id", "functional_result", "failure_code_ids", "data_security")
    def _compute_suggested_disposition(self):
        suggestions = self.env["rma.disposition.rule"]._suggest(self)
        for inspection in self:
            inspection.suggested_disposition_id = suggestions[inspection]

    @api.onchange("is_data_bearing")
    def _onchange_is_data_bearing(self):
        if self.is_data_bearing and self.data_security == "none":
            self.data_security = "wipe"

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        self._check_input_shape(vals_list)
        ensure_workflow_fields(self, {name for vals in vals_list for name in vals})
        return super().create(vals_list)

    def write(self, vals):
        ensure_workflow_fields(self, vals)
        if any(inspection.state == "done" for inspection in self) and set(vals) - {
            "notes",
            "photo_ids",
            "message_main_attachment_id",
        }:
            raise UserError(self.env._("A finished inspection cannot be changed; its notes and photos can."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_done(self):
        if any(inspection.state == "done" for inspection in self):
            raise UserError(self.env._("A finished inspection cannot be deleted."))

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_done(self):
        self._ensure_can_be_done()
        server_write(self, {"state": "done", "done_date": fields.Datetime.now()})
        self.env["rma.custody.event"]._log(
            self.line_id, "inspection", note={inspection.line_id: inspection._summary() for inspection in self}
        )
        self.line_id._create_sanitizations_from_inspection()
        self.line_id.rma_id._rma_notify("inspected")
        return True

    def _ensure_can_be_done(self):
        self.check_access("write")  # Returns Inspectors and Managers record inspections
        is_manager = self.env.user.has_group(MANAGER_GROUP)
        for inspection in self:
            if inspection.state != "draft":
                raise UserError(self.env._("%(inspection)s is already done.", inspection=inspection.display_name))
            if inspection.technician_id != self.env.user and not is_manager:
                raise AccessError(
                    self.env._(
                        "%(inspection)s was opened by %(technician)s: only they or a Returns Manager can finish it.",
                        inspection=inspection.display_name,
                        technician=inspection.technician_id.name,
                    )
                )
            if inspection.line_id.state != "inspection":
                raise UserError(
                    self.env._(
                        "%(unit)s is not in inspection any more: its findings can no longer be recorded.",
                        unit=inspection.line_id.display_name,
                    )
                )
            if not inspection.grade_id or not inspection.functional_result:
                raise UserError(
                    self.env._(
                        "Record the cosmetic grade and the functional test result of %(unit)s.",
                        unit=inspection.line_id.display_name,
                    )
                )
            if inspection.functional_result == "fail" and not inspection.failure_code_ids:
                raise UserError(self.env._("A failed functional test needs at least one failure code."))
            if inspection.is_data_bearing and inspection.data_security == "none":
                raise UserError(
                    self.env._("%(unit)s bears data: choose wipe or destroy.", unit=inspection.line_id.display_name)
                )

    def _summary(self):
        self.ensure_one()
        selection = dict(self._fields["functional_result"]._description_selection(self.env))
        security = dict(self._fields["data_security"]._description_selection(self.env))
        parts = [
            self.env._("Grade %(grade)s", grade=self.grade_id.code),
            self.env._("functional test: %(result)s", result=selection[self.functional_result]),
        ]
        if self.failure_code_ids:
            parts.append(self.env._("failures: %(codes)s", codes=", ".join(self.failure_code_ids.mapped("code"))))
        parts.append(self.env._("data security: %(requirement)s", requirement=security[self.data_security]))
        if self.suggested_disposition_id:
            parts.append(self.env._("suggested: %(code)s", code=self.suggested_disposition_id.code))
        return "; ".join(parts)
