"""Fields folded into rma_line.py at merge: the unit's remedy, credit note, remedy delivery, COGS reversal and journal
items, with their computes. The steps that fill them live with their documents: the RMA's remedy step
(rma_order_remedy.py), the COGS reversal records (rma_cogs_reversal.py), the journal entries (stock_move.py,
account_move.py)."""

from odoo import api, fields, models
from odoo.exceptions import UserError

from .rma_order_remedy import REMEDIES
from .rma_workflow_guard import field_labels, is_server_write


class RmaLine(models.Model):
    _inherit = "rma.line"

    # ------------------------------------------------------------------
    # Remedy: requested with the RMA, confirmed by a manager once the unit is inspected, done when its document is
    # ------------------------------------------------------------------
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
    # Whoever asks (warehouse staff need not read invoices, an accountant stock moves), the documents decide.
    is_remedy_started = fields.Boolean(
        compute="_compute_remedy_progress",
        compute_sudo=True,
        help="The unit has its remedy's document (a credit note line, a delivery) that is not cancelled.",
    )
    is_remedy_due = fields.Boolean(
        compute="_compute_remedy_progress",
        compute_sudo=True,
        help="The unit is owed its remedy's document now: no credit note that is not cancelled, no delivery under"
        " way, and a quantity not delivered yet. A second click on a remedy action finds nothing due.",
    )
    remedy_qty_to_deliver = fields.Float(
        compute="_compute_remedy_progress",
        compute_sudo=True,
        digits="Product Unit",
        help="What the unit's replacement or shipment back has not delivered yet (all of it before its delivery; the"
        " rest when a part was delivered and the backorder cancelled).",
    )

    # Refund
    credit_note_line_id = fields.Many2one("account.move.line", readonly=True, copy=False, index="btree_not_null")
    credit_note_id = fields.Many2one(related="credit_note_line_id.move_id", string="Credit Note")
    sale_line_id = fields.Many2one(
        "sale.order.line",
        compute="_compute_sale_line_id",
        compute_sudo=True,
        help="The sale order line the unit was delivered for (or, without a known delivery, the line of its product on"
        " the RMA's sale order): it prices the unit's credit note.",
    )

    # Replacement, or the repaired unit shipped back
    replacement_product_id = fields.Many2one(
        "product.product",
        check_company=True,
        domain="[('type', '=', 'consu')]",
        help="Sent in place of the returned unit. Empty: the same product. Part of the remedy: once a manager"
        " confirmed it, it changes only when a manager confirms the remedy again (Confirm Remedy).",
    )
    remedy_move_ids = fields.One2many(
        "stock.move",
        "rma_remedy_line_id",
        string="Remedy Delivery Moves",
        readonly=True,
        help="The unit's replacement or shipment back: one move per unit, and the parts of it split into backorders.",
    )
    remedy_move_id = fields.Many2one(
        "stock.move",
        string="Remedy Delivery Move",
        compute="_compute_remedy_move_id",
        store=True,
        compute_sudo=True,
        copy=False,
        index="btree_not_null",
        help="The replacement unit's delivery, or the repaired unit's shipment back to the customer: the last part"
        " delivered, else the part still to deliver.",
    )
    remedy_picking_id = fields.Many2one(related="remedy_move_id.picking_id", string="Remedy Delivery")
    is_advance_overdue = fields.Boolean(
        string="Advance Remedy Overdue",
        readonly=True,
        copy=False,
        help="Credited or replaced before it arrived, the unit did not arrive in time: its RMA has an activity.",
    )

    # ------------------------------------------------------------------
    # COGS reversal, exactly once (accounting contract, invariants 2 and 5; see rma.cogs.reversal)
    # ------------------------------------------------------------------
    cogs_reversal_ids = fields.One2many("rma.cogs.reversal", "line_id", string="COGS Reversals", readonly=True)
    cogs_reversed_amount = fields.Monetary(
        string="COGS Reversed",
        currency_field="currency_id",
        compute="_compute_cogs_reversal",
        help="The COGS reversed for the unit's received quantity by the documents that count.",
    )
    is_cogs_reversed_by_refund = fields.Boolean(
        string="COGS Reversed by a Credit Note",
        compute="_compute_cogs_reversal",
        help="A credit note posted before the unit was authorized reversed its cost of goods sold: its receipt"
        " posts no entry for that quantity (one reversal per unit).",
    )
    is_cogs_reversal_mismatch = fields.Boolean(
        string="COGS Not Reversed Exactly Once",
        compute="_compute_cogs_reversal",
        search="_search_is_cogs_reversal_mismatch",
        help="Received in real-time valuation, the COGS reversed for the unit differs from the value of its receipt."
        " This list must stay empty.",
    )

    # Journal entries of the unit (see the accounting contract)
    account_move_line_ids = fields.One2many("account.move.line", "rma_line_id", string="Journal Items", readonly=True)

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
                delivered = "done" in line.remedy_move_ids.mapped("state") and not line.remedy_qty_to_deliver
                line.remedy_state = "done" if delivered else "pending"

    @api.depends(
        "credit_note_line_id.parent_state",
        "remedy_move_ids.state",
        "remedy_move_ids.quantity",
        "quantity",
        "quantity_received",
    )
    def _compute_remedy_progress(self):
        for line in self:
            credited = line.credit_note_line_id and line.credit_note_line_id.parent_state != "cancel"
            moves = line.remedy_move_ids
            # What the moves delivered, not their demand: validated without backorder, a move is done for less.
            delivered = sum(
                move.product_uom._compute_quantity(move.quantity, move.product_id.uom_id)
                for move in moves.filtered(lambda move: move.state == "done")
            )
            to_deliver = max(line.product_uom_id.round((line.quantity_received or line.quantity) - delivered), 0.0)
            line.remedy_qty_to_deliver = to_deliver
            line.is_remedy_started = bool(credited or moves.filtered(lambda move: move.state != "cancel"))
            line.is_remedy_due = bool(
                not credited and not moves.filtered(lambda move: move.state not in ("done", "cancel")) and to_deliver
            )

    @api.depends("rma_id.partner_id.commercial_partner_id.rma_advance_remedy")
    def _compute_is_advance_remedy(self):
        for line in self:
            line.is_advance_remedy = line.rma_id.partner_id.commercial_partner_id.rma_advance_remedy

    @api.depends("inspection_done_date", "state", "is_remedy_started")
    def _compute_can_confirm_remedy(self):
        for line in self:
            line.can_confirm_remedy = bool(line.inspection_done_date) and not line.is_remedy_started

    @api.depends("delivery_move_id.sale_line_id", "rma_id.sale_order_id.order_line.product_id", "product_id")
    def _compute_sale_line_id(self):
        for line in self:
            line.sale_line_id = (
                line.delivery_move_id.sale_line_id
                or line.rma_id.sale_order_id.order_line.filtered(
                    lambda sale_line, line=line: sale_line.product_id == line.product_id
                )[:1]
            )

    @api.depends("remedy_move_ids.state")
    def _compute_remedy_move_id(self):
        for line in self:
            moves = line.remedy_move_ids.sorted("id")
            line.remedy_move_id = (
                moves.filtered(lambda move: move.state == "done")[-1:]
                or moves.filtered(lambda move: move.state != "cancel")[-1:]
                or moves[-1:]
            )

    @api.depends("cogs_reversal_ids.is_counting", "receipt_move_ids.value", "receipt_move_ids.state")
    def _compute_cogs_reversal(self):
        Reversal = self.env["rma.cogs.reversal"]
        for line in self:
            counting = line.cogs_reversal_ids.filtered("is_counting")
            line.is_cogs_reversed_by_refund = any(row.kind == "credit" and row.quantity > 0 for row in counting)
            _due_quantity, due_amount = Reversal._due(line)
            line.cogs_reversed_amount = Reversal._expected(line)[1] - due_amount
            line.is_cogs_reversal_mismatch = not line.currency_id.is_zero(due_amount)

    def _search_is_cogs_reversal_mismatch(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(self.env._("Search returned units whose COGS is not reversed exactly once with = or !=."))
        mismatched = self.env["rma.cogs.reversal"]._mismatched_unit_ids()
        return [("id", "in" if (operator == "=") == value else "not in", mismatched)]

    # ------------------------------------------------------------------
    # CRUD: folded into rma.line's write at merge
    # ------------------------------------------------------------------
    def write(self, vals):
        self._ensure_replacement_product_open(vals)
        return super().write(vals)

    def _ensure_replacement_product_open(self, vals):
        """The replacement product is part of the unit's remedy: a client changes it only while the remedy is
        neither confirmed by a manager nor under way (a delivery). After that, only the manager's confirmation of
        the remedy writes it (rma.order._confirm_remedy, through server_write)."""
        if is_server_write(self.env) or "replacement_product_id" not in vals:
            return
        name = "replacement_product_id"
        decided = self.filtered(
            lambda line: (
                (line.remedy_confirmed_date or line.is_remedy_started)
                and line._fields[name].convert_to_write(line[name], line) != vals[name]
            )
        )
        if decided:
            raise UserError(
                self.env._(
                    "%(field)s of %(units)s is part of the remedy a manager confirmed (or that is under way): a"
                    " manager changes it by confirming the remedy again.",
                    field=field_labels(self, [name]),
                    units=", ".join(decided.mapped("display_name")),
                )
            )

    # ------------------------------------------------------------------
    # Buttons of the unit's form, and the scheduled action (its record, noupdate, names rma.line): one line each
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

    @api.model
    def _cron_check_advance_remedies(self):
        return self.env["rma.order"]._cron_check_advance_remedies()
