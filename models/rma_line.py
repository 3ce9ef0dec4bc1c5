from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from .rma_disposition import REPAIR_LEVELS
from .rma_workflow_guard import ensure_workflow_fields, field_labels, is_server_write, server_create, server_write

# Line states in which a unit is still "open on an RMA" for the duplicate check.
OPEN_LINE_STATES = ("draft", "authorized")
# Unit states in which the unit is physically with us (received and not closed): its status changes are
# custody events.
ON_HAND_STATES = ("received", "inspection", "disposition", "in_progress", "ready")

# The unit's state machine: every status change goes through RmaLine._transition, which refuses any other.
UNIT_TRANSITIONS = {
    "draft": ("authorized", "rejected", "cancel"),  # the manager's decision on the RMA
    "authorized": ("received", "cancel"),  # scanned in at the warehouse / RMA withdrawn before arrival
    "received": ("inspection",),  # Start Inspection
    "inspection": ("closed", "in_progress", "disposition"),  # disposition: RTS/PH/REC, REF/REP, SD
    "in_progress": ("ready", "inspection"),  # work finished / work cancelled: back to quarantine, to dispose again
    # SD: closed when its destruction is certified (_close_destroyed); RTV: the vendor's answer (credit, replacement:
    # closed; repaired: ready in graded stock; rejected: back to inspection, models/rma_vendor_return.py)
    "disposition": ("closed", "ready", "inspection"),
    "ready": ("closed",),  # in graded stock, for remarketing, until it leaves it
    "closed": (),
    "rejected": ("draft",),  # reset by a manager
    "cancel": ("draft",),  # reset by a manager
}
# The stages whose time the transition itself records (the others are recorded by the step that owns them:
# received_date, the inspection's dates, disposition_date, work_finished_date).
STAGE_DATE_FIELDS = {"authorized": "authorized_date", "closed": "closed_date"}

# What a disposition writes on its unit, undone when the work is cancelled.
DISPOSITION_FIELDS = (
    "disposition_id",
    "repair_level",
    "net_realizable_value",
    "work_cost",
    "recovery_value",
    "book_value",
    "carrying_value",
    "disposition_note",
    "disposition_date",
    "disposition_user_id",
    "disposition_batch_id",
    "disposition_valuation",
    "repair_id",
)

# Unit status after the disposition, per treatment. Destroyed units wait for their destruction certificate.
# What the customer gets for the unit (the RMA's remedy step, models/rma_order_remedy.py).
REMEDIES = [
    ("refund", "Refund"),
    ("replacement", "Replacement"),
    ("repair_return", "Repair and Return"),
    ("none", "None"),
]
STATE_AFTER_DISPOSITION = {
    "restock": "closed",
    "refurbish": "in_progress",
    "repair": "in_progress",
    "salvage": "closed",
    "destroy": "disposition",
    "vendor": "disposition",
}


class RmaLine(models.Model):
    """A returned unit: what the customer declared, its status (UNIT_TRANSITIONS, applied by _transition), its
    inspection, disposition, harvest and remedy, and their buttons. Its checks and step guards are in
    rma_line_checks.py; its custody (receipt, location, moves in and out of WIP, chain of custody, sanitization
    certificates) in rma_line_custody.py. The steps themselves are run by their documents (CONTRIBUTING.md)."""

    _name = "rma.line"
    _inherit = ["rma.input.mixin"]
    _description = "RMA Unit"
    _order = "rma_id, sequence, id"
    _check_company_auto = True
    _rec_names_search = ["serial_number", "rma_id", "product_id"]
    # The unit as authorized: fixed once the RMA is decided.
    _frozen_fields = ("rma_id", "product_id", "serial_number", "quantity", "remedy_requested")
    # Scans match a serial trimmed, whatever its case (_find_by_code): that expression, indexed.
    _serial_number_key_idx = models.Index("(lower(btrim(serial_number)))")

    rma_id = fields.Many2one("rma.order", string="RMA", required=True, ondelete="cascade", index=True)
    sequence = fields.Integer(default=10)
    company_id = fields.Many2one(related="rma_id.company_id", store=True, index=True, precompute=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    partner_id = fields.Many2one(related="rma_id.partner_id", string="Customer")
    state = fields.Selection(
        [
            ("draft", "Requested"),
            ("authorized", "Authorized"),
            ("received", "Received"),
            ("inspection", "In Inspection"),
            ("disposition", "Disposition Assigned"),
            ("in_progress", "In Repair/Refurbishment"),
            ("ready", "Ready for Restock/Remarketing"),
            ("closed", "Closed"),
            ("rejected", "Rejected"),
            ("cancel", "Cancelled"),
        ],
        string="Status",
        readonly=True,
        copy=False,
        index=True,
        default="draft",
        help="Requested, Authorized, Rejected, Cancelled: follow the RMA's decision.\n"
        "Received: scanned in at the warehouse, in quarantine.\n"
        "In Inspection: a technician is grading the unit.\n"
        "Disposition Assigned: its disposition code is decided.\n"
        "In Repair/Refurbishment: at a work-in-progress location.\n"
        "Ready for Restock/Remarketing: back in sellable or graded stock.\n"
        "Closed: nothing more happens to the unit.",
    )
    # Allowed changes: UNIT_TRANSITIONS, applied by _transition.
    authorized_date = fields.Datetime(string="Authorized On", readonly=True, copy=False, index=True)  # KPI periods
    closed_date = fields.Datetime(string="Closed On", readonly=True, copy=False)

    # ------------------------------------------------------------------
    # The unit as declared by the customer
    # ------------------------------------------------------------------
    product_id = fields.Many2one(
        "product.product",
        required=True,
        check_company=True,
        domain="[('type', '=', 'consu')]",
    )
    tracking = fields.Selection(related="product_id.tracking")
    identifier_type = fields.Selection(related="product_id.rma_identifier_type", string="Identifier")
    serial_number = fields.Char(
        string="Serial / IMEI",
        copy=False,
        index=True,  # matched at every scan
        help="The serial number or IMEI as declared by the customer.",
    )
    quantity = fields.Float(default=1.0, digits="Product Unit", required=True)
    product_uom_id = fields.Many2one(related="product_id.uom_id", string="Unit")

    # ------------------------------------------------------------------
    # Inspection and data security
    # ------------------------------------------------------------------
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
    sanitization_ids = fields.One2many("rma.sanitization", "line_id", string="Sanitizations", readonly=True)
    sanitization_count = fields.Integer(compute="_compute_sanitization_count")
    data_security = fields.Selection(related="inspection_id.data_security", string="Data Security")

    # ------------------------------------------------------------------
    # Disposition (steps 4-5): where it goes, its values, its repair order
    # ------------------------------------------------------------------
    disposition_id = fields.Many2one("rma.disposition", readonly=True, copy=False, index=True)
    disposition_treatment = fields.Selection(related="disposition_id.treatment", string="Treatment")
    disposition_destination = fields.Selection(related="disposition_id.destination", string="Destination")
    repair_level = fields.Selection(REPAIR_LEVELS, readonly=True, copy=False)
    net_realizable_value = fields.Monetary(
        currency_field="currency_id",
        readonly=True,
        copy=False,
        help="Estimated selling price after the work, less the costs to sell it.",
    )
    work_cost = fields.Monetary(currency_field="currency_id", string="Estimated Work Cost", readonly=True, copy=False)
    recovery_value = fields.Monetary(
        currency_field="currency_id",
        string="Residual Recovery Value",
        readonly=True,
        copy=False,
        help="Harvested parts, recycler rebate.",
    )
    book_value = fields.Monetary(
        currency_field="currency_id",
        readonly=True,
        copy=False,
        help="The unit's value in stock when it was disposed, as Odoo valued its move.",
    )
    carrying_value = fields.Monetary(
        currency_field="currency_id",
        readonly=True,
        copy=False,
        help="Value of a unit in refurbishment or repair: its book value, written down to its net realizable value.",
    )
    recovered_value = fields.Monetary(
        currency_field="currency_id",
        compute="_compute_recovered_value",
        store=True,
        help="What the disposition recovered: RTS its book value, REF/REP the net realizable value less the work"
        " cost, PH/REC the residual recovery value, SD nothing (the Recovery Value of the KPIs and of the batch).",
    )
    disposition_date = fields.Datetime(readonly=True, copy=False)
    work_finished_date = fields.Datetime(
        string="Work Finished On", readonly=True, copy=False, help="Its refurbishment or repair finished."
    )
    disposition_user_id = fields.Many2one("res.users", string="Disposed By", readonly=True, copy=False)
    disposition_note = fields.Text(readonly=True, copy=False)
    disposition_batch_id = fields.Many2one(
        "rma.disposition.batch",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The batch whose confirmation disposed the unit.",
    )
    disposition_valuation = fields.Selection(
        [("real_time", "Perpetual"), ("periodic", "Periodic")],
        string="Valuation",
        readonly=True,
        copy=False,
        help="Perpetual: Odoo posted the book value with the move, the addon the rest.\n"
        "Periodic: the stock closing aligns the stock accounts; the addon posted only the write-down, accrual and"
        " recovery lines.",
    )
    requires_certificate = fields.Boolean(related="disposition_id.requires_certificate")
    repair_id = fields.Many2one("repair.order", string="Repair Order", readonly=True, copy=False)
    can_be_disposed = fields.Boolean(compute="_compute_can_be_disposed")

    # ------------------------------------------------------------------
    # Parts harvest (rma.harvest.wizard)
    # ------------------------------------------------------------------
    harvest_move_ids = fields.One2many(
        "stock.move", "rma_harvest_line_id", string="Harvested Parts", readonly=True, copy=False
    )

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

    # Journal entries of the unit (see the accounting contract)
    account_move_line_ids = fields.One2many("account.move.line", "rma_line_id", string="Journal Items", readonly=True)

    # ------------------------------------------------------------------
    # Compute
    # ------------------------------------------------------------------
    @api.depends("rma_id.display_name", "product_id", "serial_number")
    def _compute_display_name(self):
        for line in self:
            unit = line.product_id.display_name or ""
            if line.serial_number:
                unit = f"{unit} [{line.serial_number}]"
            line.display_name = f"{line.rma_id.display_name} - {unit}" if line.rma_id else unit

    @api.depends("inspection_ids.date")
    def _compute_inspection_id(self):
        for line in self:
            line.inspection_id = line.inspection_ids.sorted(lambda inspection: (inspection.date, inspection.id))[-1:]

    @api.depends("state")
    def _compute_can_be_inspected(self):
        for line in self:
            line.can_be_inspected = line.state == "received"

    @api.depends("sanitization_ids")
    def _compute_sanitization_count(self):
        for line in self:
            line.sanitization_count = len(line.sanitization_ids)

    @api.depends("disposition_id.treatment", "book_value", "net_realizable_value", "work_cost", "recovery_value")
    def _compute_recovered_value(self):
        for line in self:
            line.recovered_value = line.disposition_id._get_recovered_value(
                line.book_value, line.net_realizable_value, line.work_cost, line.recovery_value
            )

    @api.depends("state", "inspection_id.state", "location_id", "is_substitution")
    def _compute_can_be_disposed(self):
        for line in self:
            line.can_be_disposed = not line._disposition_blocker()

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

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        self._check_input_shape(vals_list)
        ensure_workflow_fields(self, {name for vals in vals_list for name in vals})
        if not is_server_write(self.env):
            rmas = self.env["rma.order"].browse({vals.get("rma_id") for vals in vals_list} - {None, False})
            decided = rmas.filtered(lambda rma: rma.state != "draft")
            if decided:
                raise UserError(
                    self.env._(
                        "%(rmas)s is decided: units can no longer be added. A unit that arrives in place of an"
                        " authorized one is received as a substitution when it is scanned.",
                        rmas=", ".join(decided.mapped("display_name")),
                    )
                )
        return super().create(vals_list)

    def write(self, vals):
        ensure_workflow_fields(self, vals)
        self._ensure_replacement_product_open(vals)
        frozen = set(vals) & set(self._frozen_fields)
        decided = frozen and self.filtered(
            lambda line: (
                line.state != "draft"
                and any(line._fields[name].convert_to_write(line[name], line) != vals[name] for name in frozen)
            )
        )
        if decided:
            raise UserError(
                self.env._(
                    "%(fields)s of a unit cannot change once its RMA is decided: %(units)s.",
                    fields=field_labels(self, frozen),
                    units=", ".join(decided.mapped("display_name")),
                )
            )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_decided(self):
        if any(line.state != "draft" for line in self):
            raise UserError(self.env._("Only units of requested RMAs can be removed."))

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_start_inspection(self):
        """Open an inspection for each unit: the unit is now In Inspection."""
        self._ensure_can_be_inspected()
        # Unit, technician and date are the server's fields; the inspection opens as the user, whom its ACL decides.
        inspections = server_create(self.env["rma.inspection"], [{"line_id": line.id} for line in self])
        self._transition("inspection", note=self.env._("Inspection started"))
        return inspections._get_records_action(name=self.env._("Inspection"))

    def action_open_inspection(self):
        return self.inspection_id._get_records_action(name=self.env._("Inspection"))

    def action_open_disposition_wizard(self):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Disposition"),
            "res_model": "rma.disposition.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"active_model": self._name, "active_ids": self.ids},
        }

    def action_view_repair(self):
        return self.repair_id._get_records_action(name=self.env._("Repair Order"))

    def action_open_harvest_wizard(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Harvest Parts"),
            "res_model": "rma.harvest.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_unit_id": self.id},
        }

    def action_view_harvested_parts(self):
        return self.harvest_move_ids._get_records_action(name=self.env._("Harvested Parts"))

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

    # ------------------------------------------------------------------
    # State machine
    # ------------------------------------------------------------------
    def _transition(self, state, note=False, station=False, date=None):
        """Move the units to ``state``: the one place a unit's status changes. Refused unless UNIT_TRANSITIONS
        allows it from each unit's current status; a unit in our custody gets a custody event; the RMAs follow
        (their status is computed from their units). Callers run their step's guard first. ``date``: the time
        of the step the caller records on its own document too (the RMA's decision), now by default."""
        labels = dict(self._fields["state"]._description_selection(self.env))
        forbidden = self.filtered(lambda line: state not in UNIT_TRANSITIONS[line.state])
        if forbidden:
            raise UserError(
                self.env._(
                    "%(units)s cannot go from %(current)s to %(state)s.",
                    units=", ".join(forbidden.mapped("display_name")),
                    current=", ".join(sorted({labels[line.state] for line in forbidden})),
                    state=labels[state],
                )
            )
        in_custody = self.filtered(lambda line: line.state in ON_HAND_STATES)
        self.env["rma.custody.event"]._log_status_changes(in_custody, note or labels[state], station)
        vals = {"state": state}
        if state in STAGE_DATE_FIELDS:
            vals[STAGE_DATE_FIELDS[state]] = date or fields.Datetime.now()
        server_write(self, vals)
        if state == "closed":
            self.rma_id._rma_notify("closed")

    def _lock_units(self):
        """Claim these units' rows for this transaction, before a step decides from their state (a receipt, a
        harvest, a COGS settlement). The row is locked and rewritten unchanged: a concurrent request claiming the same
        unit waits for this one, then (PostgreSQL's repeatable read: the row changed under it) fails with a
        serialization error, which Odoo's RPC layer retries on a fresh snapshot that holds what this one did (the
        second scan of a unit then finds it received). Plain row locks, in id order; no advisory lock, no rollback."""
        if not self:
            return
        self.flush_recordset()
        self.env.cr.execute(
            SQL(
                "UPDATE rma_line SET write_date = rma_line.write_date FROM (SELECT id FROM rma_line WHERE id = ANY(%s)"
                " ORDER BY id FOR NO KEY UPDATE) AS claimed WHERE rma_line.id = claimed.id",
                list(self.ids),
            )
        )
        # Nothing else changed: the rows are rewritten as they were (a row changed by another transaction would have
        # failed the update). The cache of the units' other fields stays valid.
        self.invalidate_recordset(["write_date"])

    def _write_each(self, vals_by_line):
        """Write {unit: vals} with one write per distinct vals (a batch holds few): not one per unit and field."""
        groups = defaultdict(list)
        for line, vals in vals_by_line.items():
            groups[tuple(sorted(vals.items()))].append(line.id)
        for items, line_ids in groups.items():
            self.browse(line_ids).write(dict(items))

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------

    @api.model
    def _cron_check_advance_remedies(self):
        return self.env["rma.order"]._cron_check_advance_remedies()
