from odoo import api, fields, models
from odoo.exceptions import UserError

from .rma_workflow_guard import server_write

REMEDIES = [
    ("refund", "Refund"),
    ("replacement", "Replacement"),
    ("repair_return", "Repair and Return"),
    ("none", "None"),
]
# Units that never became the customer's return: no remedy is owed for them.
UNDECIDED_STATES = ("draft", "rejected", "cancel")


class RmaLine(models.Model):
    """What the customer gets for a returned unit: requested with the RMA, confirmed by a manager once the unit is
    inspected, and done when its document is (credit note posted, replacement or repaired unit delivered)."""

    _inherit = "rma.line"

    remedy_requested = fields.Selection(
        REMEDIES,
        string="Requested Remedy",
        default="refund",
        required=True,
        help="What the customer asks for: a refund (credit note), a replacement unit, their own unit repaired and"
        " sent back, or nothing.",
    )
    remedy = fields.Selection(
        REMEDIES,
        compute="_compute_remedy",
        store=True,
        readonly=True,
        precompute=True,
        index=True,
        help="The remedy the customer gets: the requested one, until a manager confirms or changes it once the unit"
        " is inspected.",
    )
    remedy_confirmed_by_id = fields.Many2one("res.users", readonly=True, copy=False)
    remedy_confirmed_date = fields.Datetime(string="Remedy Confirmed On", readonly=True, copy=False)
    remedy_state = fields.Selection(
        [("none", "No Remedy"), ("pending", "To Do"), ("done", "Done")],
        string="Remedy Status",
        compute="_compute_remedy_state",
        store=True,
        index=True,
        help="Done: the credit note is posted, or the replacement or repaired unit is delivered.",
    )
    is_advance_remedy = fields.Boolean(
        compute="_compute_is_advance_remedy",
        help="The customer may be credited or sent a replacement before the unit arrives.",
    )
    can_confirm_remedy = fields.Boolean(compute="_compute_can_confirm_remedy")

    @api.depends("remedy_requested")
    def _compute_remedy(self):
        for line in self:
            line.remedy = line.remedy_requested

    @api.depends(
        "state",
        "remedy",
        "credit_note_line_id.parent_state",
        "quantity",
        "quantity_received",
        "remedy_move_ids.state",
        "remedy_move_ids.quantity",
    )
    def _compute_remedy_state(self):
        for line in self:
            if line.remedy == "none" or line.state in ("rejected", "cancel"):
                line.remedy_state = "none"
            elif line.remedy == "refund":
                line.remedy_state = "done" if line.credit_note_line_id.parent_state == "posted" else "pending"
            else:
                # Delivered in parts (a backorder): done once the unit's whole quantity is.
                delivered = "done" in line.remedy_move_ids.mapped("state") and not line._remedy_qty_to_deliver()
                line.remedy_state = "done" if delivered else "pending"

    @api.depends("rma_id.partner_id.commercial_partner_id.rma_advance_remedy")
    def _compute_is_advance_remedy(self):
        for line in self:
            line.is_advance_remedy = line.rma_id.partner_id.commercial_partner_id.rma_advance_remedy

    @api.depends("inspection_done_date", "state")
    def _compute_can_confirm_remedy(self):
        for line in self:
            line.can_confirm_remedy = bool(line.inspection_done_date) and not line._remedy_started()

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_open_remedy_wizard(self):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Confirm Remedy"),
            "res_model": "rma.remedy.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"active_model": "rma.line", "active_ids": self.ids},
        }

    def action_view_credit_note(self):
        return self.credit_note_id._get_records_action(name=self.env._("Credit Note"))

    def action_view_remedy_delivery(self):
        return self.remedy_picking_id._get_records_action(name=self.env._("Remedy Delivery"))

    def _action_confirm_remedy(self, remedy, replacement_product=None):
        """A manager confirms (or changes) the units' remedy once they are inspected; for a replacement, with the
        product to send (``replacement_product``; None or empty: each unit keeps its own)."""
        self._ensure_can_confirm_remedy(remedy)
        labels = dict(self._fields["remedy"]._description_selection(self.env))
        vals = {
            "remedy": remedy,
            "remedy_confirmed_by_id": self.env.uid,
            "remedy_confirmed_date": fields.Datetime.now(),
        }
        if remedy == "replacement" and replacement_product:
            vals["replacement_product_id"] = replacement_product.id
        server_write(self, vals)
        for rma, lines in self.grouped("rma_id").items():
            rma.message_post(
                body=self.env._(
                    "Remedy confirmed: %(remedy)s for %(units)s.",
                    remedy=labels[remedy],
                    units=", ".join(lines.mapped("display_name")),
                )
            )
        return True

    # ------------------------------------------------------------------
    # Guards
    # ------------------------------------------------------------------
    def _ensure_can_confirm_remedy(self, remedy):
        self.rma_id._ensure_manager()
        if remedy not in dict(REMEDIES):
            raise UserError(self.env._("Choose a remedy: refund, replacement, repair and return, or none."))
        if not self:
            raise UserError(self.env._("Select the units whose remedy to confirm."))
        not_inspected = self.filtered(lambda line: not line.inspection_done_date)
        if not_inspected:
            raise UserError(
                self.env._(
                    "The remedy is confirmed once the unit is inspected: %(units)s.",
                    units=", ".join(not_inspected.mapped("display_name")),
                )
            )
        started = self.filtered(lambda line: line._remedy_started())
        if started:
            raise UserError(
                self.env._(
                    "%(units)s already got their remedy (a credit note or a delivery): cancel that document first.",
                    units=", ".join(started.mapped("display_name")),
                )
            )

    def _ensure_can_get_remedy(self, remedy):
        """The units may get ``remedy`` now: it is theirs, they are authorized and not remedied yet, and the remedy
        is confirmed after inspection unless the customer is allowed advance remedies."""
        label = dict(self._fields["remedy"]._description_selection(self.env))[remedy]
        if not self:
            raise UserError(self.env._("No unit of these RMAs is to get a %(remedy)s.", remedy=label))

        def names(units):
            return ", ".join(units.mapped("display_name"))

        undecided = self.filtered(lambda line: line.state in UNDECIDED_STATES)
        if undecided:
            raise UserError(
                self.env._(
                    "%(units)s: only units of authorized RMAs get a remedy (not requested, rejected or cancelled"
                    " ones).",
                    units=names(undecided),
                )
            )
        other = self.filtered(lambda line: line.remedy != remedy)
        if other:
            raise UserError(
                self.env._("%(units)s: their remedy is not a %(remedy)s.", units=names(other), remedy=label)
            )
        substitutions = self.filtered("is_substitution")
        if substitutions:
            raise UserError(
                self.env._(
                    "%(units)s arrived in place of the authorized unit: resolve the substitution first.",
                    units=names(substitutions),
                )
            )
        started = self.filtered(lambda line: not line._remedy_due())
        if started:
            raise UserError(self.env._("%(units)s already got their %(remedy)s.", units=names(started), remedy=label))
        credited = self.filtered("is_cogs_reversed_by_refund") if remedy == "refund" else self.browse()
        if credited:
            raise UserError(
                self.env._(
                    "%(units)s were credited before their RMA (a credit note of their sale order or invoice).",
                    units=names(credited),
                )
            )
        unconfirmed = self.filtered(
            lambda line: not line.remedy_confirmed_date and not (remedy != "repair_return" and line.is_advance_remedy)
        )
        if unconfirmed:
            raise UserError(
                self.env._(
                    "%(units)s: a manager confirms the remedy once the unit is inspected (customers allowed advance"
                    " remedies are credited or replaced before).",
                    units=names(unconfirmed),
                )
            )

    def _remedy_candidates(self, remedy, strict=False):
        """The units to get ``remedy`` now. ``strict``: when none is, those that would but for their confirmation
        or status, so that the guard says why."""
        lines = self.filtered(
            lambda line: line.remedy == remedy and line.state not in UNDECIDED_STATES and line._remedy_due()
        )
        ready = lines.filtered(
            lambda line: line.remedy_confirmed_date or (remedy != "repair_return" and line.is_advance_remedy)
        )
        if remedy == "repair_return":
            ready = ready.filtered(lambda line: line.state == "ready")
        return lines if strict and not ready else ready

    def _remedy_started(self):
        """The unit has its remedy's document (a credit note line, a delivery) that is not cancelled."""
        self.ensure_one()
        # Whoever asks (warehouse staff need not read invoices), the documents decide.
        line = self.sudo()
        return bool(
            (line.credit_note_line_id and line.credit_note_line_id.parent_state != "cancel")
            or line.remedy_move_ids.filtered(lambda move: move.state != "cancel")
        )

    def _remedy_due(self):
        """The unit is owed its remedy's document now: it has no credit note that is not cancelled, no delivery under
        way, and a quantity not delivered yet (all of it, or the rest of a delivery whose backorder was cancelled).
        A second click on a remedy action finds nothing due and creates nothing."""
        self.ensure_one()
        line = self.sudo()  # as in _remedy_started: warehouse staff need not read invoices, the documents decide
        if line.credit_note_line_id and line.credit_note_line_id.parent_state != "cancel":
            return False
        if line.remedy_move_ids.filtered(lambda move: move.state not in ("done", "cancel")):
            return False
        return bool(line._remedy_qty_to_deliver())
