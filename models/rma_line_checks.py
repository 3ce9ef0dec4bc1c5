from collections import defaultdict

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from .rma_line import OPEN_LINE_STATES
from .rma_workflow_guard import INSPECTOR_GROUP, field_labels, is_server_write, server_write
from .stock_picking import RECEIVABLE_RMA_STATES

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
    """The unit's checks: its authorization checks against the original shipment (the flags, and a manager's
    override of them), the constraints on the unit as declared, its COGS reversed exactly once, and the guards of
    its steps."""

    _inherit = "rma.line"

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

    # ------------------------------------------------------------------
    # Compute
    # ------------------------------------------------------------------
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
        lookups = self._checks_context()
        for line in self:
            line.update(line._check_values(lookups))

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

    def _check_values(self, lookups):
        """The check results of one line, from the batch lookups built by ``_checks_context``."""
        self.ensure_one()
        rma = self.rma_id
        customer = rma.partner_id.commercial_partner_id
        serial = (self.serial_number or "").strip()
        values = dict.fromkeys(FLAG_FIELDS, False)
        values.update(lot_id=False, delivery_move_id=False, open_rma_line_id=False)

        if self.product_id.tracking == "serial":
            if not serial:
                return self._with_dates(values, False)
            lot = lookups["lot_by_key"].get((self.product_id.id, serial))
            deliveries = lookups["deliveries_by_lot"][lot.id] if lot else self.env["stock.move"]
            values["lot_id"] = lot.id if lot else False
            values["is_unknown_serial"] = not lot
            values["is_invalid_imei"] = self.product_id.rma_identifier_type == "imei" and not is_luhn_valid(serial)
            # The unit's latest delivery must have gone to this customer; an earlier one doesn't count.
            values["is_not_shipped_to_customer"] = bool(lot) and (
                not deliveries or deliveries[0].picking_id.partner_id.commercial_partner_id != customer
            )
            values["is_in_stock"] = bool(lot) and lot.id in lookups["stocked_lot_ids"]
            values["is_blocked_serial"] = bool(lot) and lot.is_rma_blocked
            other = (lookups["open_by_key"][self.product_id.id, serial] - self._origin)[:1]
            values["open_rma_line_id"] = other.id
            values["is_open_elsewhere"] = bool(other)
        else:
            deliveries = lookups["deliveries_by_product"][self.product_id.id]
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

    # ------------------------------------------------------------------
    # Step guards
    # ------------------------------------------------------------------
    def _ensure_can_be_inspected(self):
        # Who inspects is rma.inspection's ACL: the inspection opens as the user (action_start_inspection).
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

    def _ensure_in_refurbishment(self):
        """Refurbishments are finished or cancelled by Returns Inspectors, on units in refurbishment (repairs with
        their repair order). A business right: the step writes only what every Returns user may write."""
        if not self.env.user.has_group(INSPECTOR_GROUP):
            raise AccessError(self.env._("Only Returns Inspectors finish or cancel refurbishments."))
        wrong = self.filtered(lambda line: line.state != "in_progress" or line.disposition_treatment != "refurbish")
        if wrong:
            raise UserError(
                self.env._(
                    "Only units in refurbishment can be finished or cancelled here (repairs with their repair"
                    " order): %s",
                    ", ".join(wrong.mapped("display_name")),
                )
            )

    def _disposition_blocker(self):
        """Why this unit cannot be disposed now, or False."""
        self.ensure_one()
        if self.state != "inspection" or self.inspection_id.state != "done":
            return self.env._("%(unit)s has no finished inspection.", unit=self.display_name)
        if self.is_substitution:
            return self.env._("%(unit)s is held as a suspected substitution.", unit=self.display_name)
        quarantine = self.rma_id.warehouse_id.rma_quarantine_location_id
        if not quarantine or self.location_id != quarantine:
            return self.env._(
                "%(unit)s is not in quarantine (it is in %(location)s).",
                unit=self.display_name,
                location=self.location_id.display_name,
            )
        return False

    def _ensure_can_harvest(self, parts):
        """``parts``: [(product, quantity, value of one)] taken from the unit (the harvest wizard's ACL decides who
        records them)."""
        self.ensure_one()
        if self.state != "closed" or self.disposition_id.destination != "rma_harvest_location_id":
            raise UserError(
                self.env._(
                    "Parts are harvested from a unit disposed to parts harvest (PH): %(unit)s is not.",
                    unit=self.display_name,
                )
            )
        if not parts:
            raise UserError(self.env._("Add the harvested parts."))
        for product, quantity, value in parts:
            if product.type != "consu" or not product.is_storable or product.tracking != "none":
                raise UserError(
                    self.env._(
                        "%(product)s: a harvested part is a storable product without serial numbers.",
                        product=product.display_name,
                    )
                )
            if quantity <= 0 or value < 0:
                raise UserError(
                    self.env._(
                        "%(product)s: enter a positive quantity and a value of zero or more.",
                        product=product.display_name,
                    )
                )
        self._ensure_within_recovery_value(sum(quantity * value for _product, quantity, value in parts))

    def _ensure_within_recovery_value(self, value):
        """The parts taken from a unit are worth, all harvests together, at most the recovery value its disposition
        recorded: that is what the disposition credited to recovery income and debited to the recovery clearing
        account, which the parts' value clears."""
        self.ensure_one()
        currency = self.company_id.currency_id
        harvested = sum(self.harvest_move_ids.filtered(lambda move: move.state == "done").mapped("value"))
        if currency.compare_amounts(harvested + value, self.recovery_value) > 0:
            raise UserError(
                self.env._(
                    "The parts harvested from %(unit)s are worth at most its recovery value, %(cap)s: %(harvested)s"
                    " were harvested already, and these parts are worth %(value)s.",
                    unit=self.display_name,
                    cap=currency.format(self.recovery_value),
                    harvested=currency.format(harvested),
                    value=currency.format(value),
                )
            )

    def _ensure_can_be_received(self, quantity=None):
        for line in self:
            if line.rma_id.state not in RECEIVABLE_RMA_STATES:
                raise UserError(
                    self.env._(
                        "%(rma)s is %(state)s: only authorized RMAs can be received.",
                        rma=line.rma_id.display_name,
                        state=dict(line.rma_id._fields["state"]._description_selection(self.env))[line.rma_id.state],
                    )
                )
            if line.state != "authorized":
                raise UserError(self.env._("%(unit)s was already received.", unit=line.display_name))
            if not line.rma_id.warehouse_id.rma_quarantine_location_id:
                raise UserError(
                    self.env._(
                        "Warehouse %(warehouse)s has no Returns Quarantine location.",
                        warehouse=line.rma_id.warehouse_id.display_name,
                    )
                )
            remaining = line.quantity - line.quantity_received
            if line.tracking != "serial" and (quantity or remaining) > remaining:
                raise UserError(
                    self.env._(
                        "Only %(remaining)s %(uom)s of %(product)s are still expected on %(rma)s.",
                        remaining=remaining,
                        uom=line.product_uom_id.name,
                        product=line.product_id.display_name,
                        rma=line.rma_id.display_name,
                    )
                )
        self._ensure_serials_receivable()

    def _ensure_serials_receivable(self):
        """A serial already in the company's stock, or still open on another RMA, is not received (again): the
        unit in hand is not the one the customer shipped back, or it is expected on the other RMA."""
        serial_lines = self.filtered(lambda line: line.tracking == "serial")
        self.env["stock.picking"]._rma_check_serials_receivable(
            [(line.lot_id, line.product_id, (line.serial_number or "").strip()) for line in serial_lines],
            serial_lines.company_id,
            serial_lines.rma_id,
        )

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
