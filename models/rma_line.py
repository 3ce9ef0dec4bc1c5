from collections import defaultdict

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from .rma_workflow_guard import ensure_workflow_fields, field_labels, is_server_write, server_write

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

# Flag field -> how the flag reads to the user. Order is the order shown on the line.
FLAG_FIELDS = (
    "is_unknown_serial",
    "is_invalid_imei",
    "is_not_shipped_to_customer",
    "is_not_on_order",
    "is_in_stock",
    "is_open_elsewhere",
    "is_outside_policy",
    "is_blocked_serial",
)


def is_luhn_valid(number):
    """Luhn check digit as used by IMEIs (ISO/IEC 7812); anything but digits fails it."""
    if not number or not number.isdigit() or not number.isascii():
        return False
    total = 0
    for index, digit in enumerate(int(char) for char in reversed(number)):
        if index % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


class RmaLine(models.Model):
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
    # Check results (recomputed when the unit, customer or referenced order change, and at authorization)
    # ------------------------------------------------------------------
    lot_id = fields.Many2one(
        "stock.lot", string="Matched Serial", compute="_compute_checks", store=True, index="btree_not_null"
    )
    delivery_move_id = fields.Many2one(
        "stock.move",
        string="Original Delivery Move",
        compute="_compute_checks",
        store=True,
        index="btree_not_null",  # searched when credit notes post
        help="The delivery of this unit to the customer that the return refers to.",
    )
    delivery_date = fields.Datetime(related="delivery_move_id.date", string="Delivered On")
    warranty_end_date = fields.Date(compute="_compute_checks", store=True)
    warranty_state = fields.Selection(
        [("in_warranty", "In Warranty"), ("expired", "Expired"), ("unknown", "Unknown")],
        string="Warranty",
        compute="_compute_checks",
        store=True,
    )
    return_deadline = fields.Date(compute="_compute_checks", store=True)
    policy_state = fields.Selection(
        [("eligible", "Eligible"), ("ineligible", "Outside Policy"), ("unknown", "Unknown")],
        string="Policy",
        compute="_compute_checks",
        store=True,
        help="Eligible: within the return window or still under warranty.",
    )
    is_unknown_serial = fields.Boolean(string="Unknown Serial", compute="_compute_checks", store=True)
    is_invalid_imei = fields.Boolean(string="Invalid IMEI", compute="_compute_checks", store=True)
    is_not_shipped_to_customer = fields.Boolean(
        string="Not Shipped to This Customer", compute="_compute_checks", store=True
    )
    is_not_on_order = fields.Boolean(string="Not on the Referenced Order", compute="_compute_checks", store=True)
    is_in_stock = fields.Boolean(string="Already in Stock", compute="_compute_checks", store=True)
    open_rma_line_id = fields.Many2one(
        "rma.line", string="Open on RMA Line", compute="_compute_checks", store=True, index="btree_not_null"
    )
    is_open_elsewhere = fields.Boolean(string="Open on Another RMA", compute="_compute_checks", store=True)
    is_outside_policy = fields.Boolean(string="Outside Return Policy", compute="_compute_checks", store=True)
    is_blocked_serial = fields.Boolean(
        string="Serial Blocked (Destroyed, Recycled or Harvested)", compute="_compute_checks", store=True
    )
    has_flag = fields.Boolean(compute="_compute_checks", store=True, index=True)
    flag_summary = fields.Char(string="Flags", compute="_compute_flag_summary")

    # ------------------------------------------------------------------
    # Manager's override of the flags
    # ------------------------------------------------------------------
    override_reason = fields.Text(readonly=True, copy=False)
    override_user_id = fields.Many2one("res.users", string="Overridden By", readonly=True, copy=False)
    override_date = fields.Datetime(string="Overridden On", readonly=True, copy=False)
    is_overridden = fields.Boolean(compute="_compute_is_overridden", store=True)

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

    @api.depends("override_reason")
    def _compute_is_overridden(self):
        for line in self:
            line.is_overridden = bool(line.override_reason)

    @api.depends(*FLAG_FIELDS, "open_rma_line_id")
    def _compute_flag_summary(self):
        labels = {name: self._fields[name].get_description(self.env)["string"] for name in FLAG_FIELDS}
        for line in self:
            flags = []
            for name in FLAG_FIELDS:
                if not line[name]:
                    continue
                if name == "is_open_elsewhere":
                    flags.append(self.env._("Open on %(rma)s", rma=line.open_rma_line_id.rma_id.display_name))
                else:
                    flags.append(labels[name])
            line.flag_summary = ", ".join(flags)

    @api.depends(
        "product_id",
        "serial_number",
        "quantity",
        "rma_id.partner_id",
        "rma_id.sale_order_id",
        "rma_id.picking_id",
        "rma_id.company_id",
    )
    def _compute_checks(self):
        """Match each declared serial and check it against the original shipment, in a fixed number of queries."""
        context = self._checks_context()
        for line in self:
            line.update(line._check_values(context))

    def _checks_context(self):
        """Everything the checks need, fetched once for all lines."""
        serial_lines = self.filtered(lambda line: line.product_id.tracking == "serial" and line.serial_number)
        keys = {(line.product_id.id, line.serial_number.strip()) for line in serial_lines}
        lots = self.env["stock.lot"]
        if keys:
            lots = lots.search(
                [
                    ("product_id", "in", list({product_id for product_id, _serial in keys})),
                    ("name", "in", list({serial for _product_id, serial in keys})),
                    ("company_id", "in", [False, *self.company_id.ids]),
                ]
            )
        lot_by_key = {(lot.product_id.id, lot.name): lot for lot in lots}

        deliveries_by_lot = defaultdict(lambda: self.env["stock.move"])
        stocked_lot_ids = set()
        if lots:
            delivered = self.env["stock.move.line"].search(
                [("lot_id", "in", lots.ids), ("state", "=", "done"), ("location_dest_id.usage", "=", "customer")],
                order="date desc, id desc",
            )
            for move_line in delivered:
                deliveries_by_lot[move_line.lot_id.id] |= move_line.move_id
            stocked_lot_ids = {
                lot.id
                for [lot] in self.env["stock.quant"]._read_group(
                    [
                        ("lot_id", "in", lots.ids),
                        ("location_id.usage", "in", ("internal", "transit")),
                        ("quantity", ">", 0),
                    ],
                    ["lot_id"],
                )
            }

        untracked = self.filtered(lambda line: line.product_id and line.product_id.tracking == "none")
        deliveries_by_product = defaultdict(lambda: self.env["stock.move"])
        if untracked:
            moves = self.env["stock.move"].search(
                [
                    ("product_id", "in", untracked.product_id.ids),
                    ("state", "=", "done"),
                    ("location_dest_id.usage", "=", "customer"),
                    ("picking_id.partner_id", "child_of", untracked.rma_id.partner_id.commercial_partner_id.ids),
                ],
                order="date desc, id desc",
            )
            for move in moves:
                deliveries_by_product[move.product_id.id] |= move

        # Lines being computed are in the database too (the batch may hold two requests for one unit):
        # a line is only compared with the others.
        open_by_key = defaultdict(lambda: self.env["rma.line"])
        if keys:
            open_lines = self.search(
                [
                    ("state", "in", OPEN_LINE_STATES),
                    ("product_id", "in", list({product_id for product_id, _serial in keys})),
                    ("serial_number", "in", list({serial for _product_id, serial in keys})),
                ],
                order="id",
            )
            for other in open_lines:
                open_by_key[other.product_id.id, other.serial_number] |= other
        return {
            "lot_by_key": lot_by_key,
            "deliveries_by_lot": deliveries_by_lot,
            "deliveries_by_product": deliveries_by_product,
            "stocked_lot_ids": stocked_lot_ids,
            "open_by_key": open_by_key,
        }

    def _check_values(self, context):
        """The check results of one line, from the batch context built by ``_checks_context``."""
        self.ensure_one()
        rma = self.rma_id
        customer = rma.partner_id.commercial_partner_id
        serial = (self.serial_number or "").strip()
        values = dict.fromkeys(FLAG_FIELDS, False)
        values.update(lot_id=False, delivery_move_id=False, open_rma_line_id=False)

        if self.product_id.tracking == "serial":
            if not serial:
                return self._with_dates(values, False)
            lot = context["lot_by_key"].get((self.product_id.id, serial))
            deliveries = context["deliveries_by_lot"][lot.id] if lot else self.env["stock.move"]
            values["lot_id"] = lot.id if lot else False
            values["is_unknown_serial"] = not lot
            values["is_invalid_imei"] = self.product_id.rma_identifier_type == "imei" and not is_luhn_valid(serial)
            # The unit's latest delivery must have gone to this customer; an earlier one doesn't count.
            values["is_not_shipped_to_customer"] = bool(lot) and (
                not deliveries or deliveries[0].picking_id.partner_id.commercial_partner_id != customer
            )
            values["is_in_stock"] = bool(lot) and lot.id in context["stocked_lot_ids"]
            values["is_blocked_serial"] = bool(lot) and lot.is_rma_blocked
            other = (context["open_by_key"][self.product_id.id, serial] - self._origin)[:1]
            values["open_rma_line_id"] = other.id
            values["is_open_elsewhere"] = bool(other)
        else:
            deliveries = context["deliveries_by_product"][self.product_id.id]
        customer_deliveries = deliveries.filtered(
            lambda move: move.picking_id.partner_id.commercial_partner_id == customer
        )
        delivery = customer_deliveries[:1]
        if rma.picking_id or rma.sale_order_id:
            on_order = customer_deliveries.filtered(
                lambda move: (
                    (not rma.picking_id or move.picking_id == rma.picking_id)
                    and (not rma.sale_order_id or move.sale_line_id.order_id == rma.sale_order_id)
                )
            )
            values["is_not_on_order"] = bool(customer_deliveries) and not on_order
            delivery = on_order[:1] or delivery
        values["delivery_move_id"] = delivery.id
        return self._with_dates(values, delivery.date)

    def _with_dates(self, values, delivery_date):
        """Add warranty and return-window results, counted from the delivery date to the authorization (today for
        a request not yet decided): a date the requester types cannot move the window."""
        request_day = fields.Date.to_date(self.rma_id.authorize_date or fields.Datetime.now())
        product = self.product_id
        company = self.rma_id.company_id or self.env.company
        months = product.rma_warranty_months or product.categ_id.rma_warranty_months or company.rma_warranty_months
        window = product.categ_id.rma_return_window_days or company.rma_return_window_days
        if delivery_date:
            delivered_on = fields.Date.to_date(delivery_date)
            warranty_end = delivered_on + relativedelta(months=months) if months else False
            deadline = delivered_on + relativedelta(days=window)
        else:
            warranty_end = deadline = False
        if warranty_end:
            warranty_state = "in_warranty" if request_day <= warranty_end else "expired"
        else:
            warranty_state = "unknown"
        if not deadline:
            policy_state = "unknown"
        elif request_day <= deadline or warranty_state == "in_warranty":
            policy_state = "eligible"
        else:
            policy_state = "ineligible"
        values.update(
            warranty_end_date=warranty_end,
            warranty_state=warranty_state,
            return_deadline=deadline,
            policy_state=policy_state,
            is_outside_policy=policy_state == "ineligible",
        )
        values["has_flag"] = any(values[name] for name in FLAG_FIELDS)
        return values

    # ------------------------------------------------------------------
    # Constraints
    # ------------------------------------------------------------------
    @api.constrains("product_id", "serial_number", "quantity")
    def _check_unit(self):
        for line in self:
            serial = (line.serial_number or "").strip()
            if line.product_id.tracking == "serial":
                if not serial:
                    raise ValidationError(
                        self.env._(
                            "Enter the serial number or IMEI of the returned %(product)s.",
                            product=line.product_id.display_name,
                        )
                    )
                if line.quantity != 1:
                    raise ValidationError(self.env._("A serial-tracked unit is returned one per line (quantity 1)."))
                if line.product_id.rma_identifier_type == "imei" and not (
                    serial.isascii() and serial.isdigit() and len(serial) == 15
                ):
                    raise ValidationError(
                        self.env._("“%(imei)s” is not an IMEI: an IMEI has exactly 15 digits.", imei=serial)
                    )
            elif line.quantity <= 0:
                raise ValidationError(self.env._("The returned quantity must be positive."))

    @api.constrains("rma_id", "product_id", "serial_number")
    def _check_unique_serial(self):
        for rma in self.rma_id:
            # As the scans match them: trimmed, whatever the case (see _find_by_code).
            serials = [
                (line.product_id.id, line.serial_number.strip().lower()) for line in rma.line_ids if line.serial_number
            ]
            if len(serials) != len(set(serials)):
                raise ValidationError(self.env._("A serial number appears twice on %(rma)s.", rma=rma.display_name))

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
    def _run_checks(self):
        """Recompute the checks now: stock and other RMAs change without touching these lines."""
        for field in self._fields.values():
            if field.compute == "_compute_checks":
                self.env.add_to_compute(field, self)
        self.flush_recordset()

    def _action_override(self, reason):
        """Accept flagged units on a manager's written reason, kept on the line and in the RMA's chatter."""
        self.rma_id._ensure_manager()
        if not isinstance(reason, str) or not reason.strip():
            raise UserError(self.env._("Write the reason for overriding the flags."))
        lines = self.filtered("has_flag")
        if not lines:
            raise UserError(self.env._("None of these units has a flag to override."))
        if lines.filtered(lambda line: line.state != "draft"):
            raise UserError(self.env._("Flags can only be overridden before the RMA is decided."))
        server_write(
            lines,
            {"override_reason": reason, "override_user_id": self.env.uid, "override_date": fields.Datetime.now()},
        )
        for rma, rma_lines in lines.grouped("rma_id").items():
            rma.message_post(
                body=self.env._(
                    "Flags overridden on %(units)s: %(reason)s",
                    units=", ".join(
                        f"{line.product_id.display_name} [{line.serial_number or '-'}] ({line.flag_summary})"
                        for line in rma_lines
                    ),
                    reason=reason,
                ),
            )
        return True

    @api.constrains("product_id")
    def _check_goods(self):
        not_goods = self.product_id.filtered(lambda product: product.type != "consu")
        if not_goods:
            raise ValidationError(
                self.env._(
                    "Only goods can be returned: %(products)s is a service or a combo, not a product shipped to the"
                    " customer.",
                    products=", ".join(not_goods.mapped("display_name")),
                )
            )
