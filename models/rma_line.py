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
    "disposition": ("closed",),  # SD: closed when its destruction is certified (_close_destroyed)
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
STATE_AFTER_DISPOSITION = {
    "restock": "closed",
    "refurbish": "in_progress",
    "repair": "in_progress",
    "salvage": "closed",
    "destroy": "disposition",
}


class RmaLine(models.Model):
    """A returned unit: what the customer declared, its status (UNIT_TRANSITIONS, applied by _transition), its
    inspection, disposition and harvest, and their buttons. Its checks and step guards are in rma_line_checks.py;
    its custody (location, moves in and out of WIP, chain of custody, sanitization certificates) in
    rma_line_custody.py."""

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
    authorized_date = fields.Datetime(string="Authorized On", readonly=True, copy=False)
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

    def action_view_sanitizations(self):
        self.ensure_one()
        action = self.sanitization_ids._get_records_action(name=self.env._("Sanitization"))
        action["context"] = {"default_line_id": self.id}
        return action

    def action_print_certificates(self):
        certificates = self.sanitization_ids.filtered(lambda record: record.state == "validated")
        if not certificates:
            raise UserError(self.env._("These units have no validated certificate of sanitization yet."))
        return self.env.ref("rma_recovery.action_report_sanitization_certificate").report_action(certificates)

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

    def action_cancel_refurbishment(self):
        """The refurbishment is abandoned: the unit goes back to quarantine, to be disposed again."""
        self._ensure_in_refurbishment()
        self._cancel_work(self.env._("Refurbishment cancelled"))
        return True

    def action_finish_refurbishment(self):
        """A refurbished unit is ready: from WIP to graded/remarketing stock at its carrying value."""
        self._ensure_in_refurbishment()
        move_vals_list = []
        for line in self:
            graded = line.rma_id.warehouse_id.rma_graded_location_id
            if not graded:
                raise UserError(
                    self.env._(
                        "Warehouse %(warehouse)s has no Graded / Remarketing location.",
                        warehouse=line.rma_id.warehouse_id.display_name,
                    )
                )
            move_vals_list.append(line._prepare_custody_move_vals(graded))
        moves = self._create_unit_moves(move_vals_list)
        self._prepare_work_close(moves)
        self._validate_unit_moves(moves)
        self._finish_work(moves)
        return True

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
    def _close_destroyed(self, note):
        """The units' secure destruction (SD) is certified: their path ends. The one method the destruction
        certificate calls once it is issued; ``note`` names the certificate in the custody event."""
        waiting = self.filtered(
            lambda line: (
                line.state == "disposition"
                and (not line.company_id.rma_sanitization_rules or line._sanitized_with(("destroy",)))
            )
        )
        if waiting != self:
            raise UserError(
                self.env._(
                    "Only units waiting for their destruction, with a validated Destroy certificate for each of their"
                    " media, are closed by it: %(units)s.",
                    units=", ".join((self - waiting).mapped("display_name")),
                )
            )
        self._transition("closed", note=note)
