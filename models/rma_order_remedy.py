from odoo import api, fields, models
from odoo.exceptions import AccessError

from .rma_workflow_guard import USER_GROUP


class RmaOrder(models.Model):
    """The RMA's remedies: credit notes, replacements and repaired units shipped back, linked to its units."""

    _inherit = "rma.order"

    credit_note_ids = fields.Many2many(
        "account.move", compute="_compute_credit_note_ids", string="Credit Notes", compute_sudo=True
    )
    credit_note_count = fields.Integer(compute="_compute_credit_note_ids", compute_sudo=True)
    remedy_picking_ids = fields.One2many("stock.picking", "rma_remedy_id", string="Remedy Deliveries", readonly=True)
    remedy_picking_count = fields.Integer(compute="_compute_remedy_picking_count")
    has_refund_to_do = fields.Boolean(compute="_compute_remedies_to_do")
    has_replacement_to_do = fields.Boolean(compute="_compute_remedies_to_do")
    has_shipment_to_do = fields.Boolean(compute="_compute_remedies_to_do")
    remedy_state = fields.Selection(
        [("none", "No Remedy"), ("pending", "To Do"), ("done", "Done")],
        string="Remedies",
        compute="_compute_remedy_state",
        store=True,
        help="To Do: a unit's credit note is not posted yet, or its replacement or shipment back not delivered.",
    )

    @api.depends("line_ids.credit_note_line_id")
    def _compute_credit_note_ids(self):
        for rma in self:
            rma.credit_note_ids = rma.line_ids.credit_note_id
            rma.credit_note_count = len(rma.credit_note_ids)

    @api.depends("remedy_picking_ids")
    def _compute_remedy_picking_count(self):
        for rma in self:
            rma.remedy_picking_count = len(rma.remedy_picking_ids)

    @api.depends("line_ids.remedy_state")
    def _compute_remedy_state(self):
        for rma in self:
            states = set(rma.line_ids.mapped("remedy_state"))
            rma.remedy_state = "pending" if "pending" in states else "done" if "done" in states else "none"

    @api.depends(
        "line_ids.remedy",
        "line_ids.state",
        "line_ids.remedy_confirmed_date",
        "line_ids.credit_note_line_id",
        "line_ids.remedy_move_ids.state",
        "line_ids.remedy_move_ids.quantity",
    )
    def _compute_remedies_to_do(self):
        for rma in self:
            rma.has_refund_to_do = bool(rma.line_ids._remedy_candidates("refund"))
            rma.has_replacement_to_do = bool(rma.line_ids._remedy_candidates("replacement"))
            rma.has_shipment_to_do = bool(rma.line_ids._remedy_candidates("repair_return"))

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_create_credit_note(self):
        """Draft credit notes for the units of these RMAs to be refunded (one per customer and currency)."""
        self._ensure_rma_user()
        credit_notes = self.line_ids._remedy_candidates("refund", strict=True)._action_create_credit_notes()
        return self._open_credit_notes(credit_notes)

    def action_create_replacement(self):
        self._ensure_rma_user()
        pickings = self.line_ids._remedy_candidates("replacement", strict=True)._action_create_replacements()
        return pickings._get_records_action(name=self.env._("Replacements"))

    def action_ship_back(self):
        self._ensure_rma_user()
        pickings = self.line_ids._remedy_candidates("repair_return", strict=True)._action_ship_back()
        return pickings._get_records_action(name=self.env._("Shipments Back"))

    def action_view_credit_notes(self):
        return self._open_credit_notes(self.credit_note_ids)

    def action_view_remedy_deliveries(self):
        return self.remedy_picking_ids._get_records_action(name=self.env._("Remedy Deliveries"))

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------
    def _ensure_rma_user(self):
        if not self.env.user.has_group(USER_GROUP):
            raise AccessError(self.env._("Only Returns users can create the remedies of RMAs."))

    def _open_credit_notes(self, credit_notes):
        if not credit_notes.has_access("read"):
            return {
                "type": "ir.actions.client",
                "tag": "display_notification",
                "params": {
                    "type": "success",
                    "message": self.env._(
                        "Credit note %(names)s drafted: the accountants review and post it.",
                        names=", ".join(credit_notes.sudo().mapped("display_name")),
                    ),
                    "next": {"type": "ir.actions.act_window_close"},
                },
            }
        action = self.env["ir.actions.act_window"]._for_xml_id("account.action_move_out_refund_type")
        if len(credit_notes) == 1:
            action.update(views=[(False, "form")], res_id=credit_notes.id)
        else:
            action["domain"] = [("id", "in", credit_notes.ids)]
        return action
