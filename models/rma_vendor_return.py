from dateutil.relativedelta import relativedelta

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError

from .rma_workflow_guard import MANAGER_GROUP, ensure_workflow_fields, is_server_write, server_create, server_write

# The vendor's answer for a unit sent back under its warranty.
VENDOR_ANSWERS = [
    ("credit", "Credit"),
    ("replacement", "Replacement"),
    ("repaired", "Repaired"),
    ("rejected", "Rejected"),
]
# The answers that put a unit (the same serial or a new one) back into our stock.
RECEIVED_ANSWERS = ("replacement", "repaired", "rejected")


class RmaVendorReturn(models.Model):
    """A vendor RMA: the units going back to one vendor under its warranty (return to vendor, code RTV), its
    authorization number, their shipment and the vendor's answer for each (credit, replacement, repaired, rejected).
    Units dispositioned RTV are grouped per vendor into its draft vendor RMA (rma.disposition.batch._dispose_lines)."""

    _name = "rma.vendor.return"
    _inherit = ["mail.thread", "mail.activity.mixin", "rma.input.mixin"]
    _description = "Vendor RMA"
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(string="Reference", readonly=True, copy=False, index="trigram")
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    partner_id = fields.Many2one(
        "res.partner", string="Vendor", required=True, readonly=True, index=True, check_company=True, tracking=True
    )
    state = fields.Selection(
        [("draft", "Draft"), ("requested", "Requested"), ("shipped", "Shipped"), ("closed", "Closed")],
        string="Status",
        readonly=True,
        copy=False,
        index=True,
        tracking=True,
        default="draft",
        help="Draft: units dispositioned RTV gather here, per vendor.\n"
        "Requested: the return is asked of the vendor; their authorization number is typed when they give it.\n"
        "Shipped: the units left for the vendor (their value is a vendor claim).\n"
        "Closed: the vendor answered for every unit.",
    )
    authorization_number = fields.Char(
        string="Vendor Authorization", tracking=True, copy=False, help="The vendor's RMA number for this return."
    )
    note = fields.Text()
    line_ids = fields.One2many("rma.vendor.return.line", "vendor_return_id", string="Units", readonly=True)
    picking_ids = fields.Many2many("stock.picking", string="Transfers", readonly=True, copy=False)
    requested_date = fields.Datetime(string="Requested On", readonly=True, copy=False)
    shipped_date = fields.Datetime(string="Shipped On", readonly=True, copy=False)
    closed_date = fields.Datetime(string="Closed On", readonly=True, copy=False)
    unit_count = fields.Integer(compute="_compute_counts")
    picking_count = fields.Integer(compute="_compute_counts")
    refund_count = fields.Integer(compute="_compute_counts", string="Credit Note Count")
    value_sent = fields.Monetary(
        currency_field="currency_id",
        compute="_compute_kpis",
        store=True,
        help="The book value of the units shipped to the vendor (the vendor claims).",
    )
    value_recovered = fields.Monetary(
        currency_field="currency_id",
        compute="_compute_kpis",
        store=True,
        help="What the vendor's answers recovered: the credited amounts and the value of the replacement units.",
    )
    recovery_rate = fields.Float(
        string="Vendor Recovery (%)",
        compute="_compute_kpis",
        store=True,
        aggregator="avg",
        help="Credited + replaced value / value sent.",
    )
    turnaround_days = fields.Float(
        string="Vendor Turnaround (Days)",
        compute="_compute_kpis",
        store=True,
        aggregator="avg",
        help="Average days from the shipment to the vendor's answer, over the answered units.",
    )

    _name_company_uniq = models.Constraint("UNIQUE(name, company_id)", "A vendor RMA number is unique per company.")

    @api.depends("line_ids", "picking_ids", "line_ids.refund_line_id")
    def _compute_counts(self):
        for vendor_return in self:
            vendor_return.unit_count = len(vendor_return.line_ids)
            vendor_return.picking_count = len(vendor_return.picking_ids)
            # sudo: a count on the form, for returns managers who need not read accounting
            vendor_return.refund_count = len(vendor_return.sudo().line_ids.refund_line_id.move_id)

    @api.depends("line_ids.value_sent", "line_ids.value_recovered", "line_ids.turnaround_days")
    def _compute_kpis(self):
        for vendor_return in self:
            lines = vendor_return.line_ids
            sent = sum(lines.mapped("value_sent"))
            vendor_return.value_sent = sent
            vendor_return.value_recovered = sum(lines.mapped("value_recovered"))
            vendor_return.recovery_rate = 100.0 * vendor_return.value_recovered / sent if sent else 0.0
            answered = lines.filtered(lambda line: line.answer_date and line.shipped_date)
            vendor_return.turnaround_days = sum(answered.mapped("turnaround_days")) / len(answered) if answered else 0.0

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        self._check_input_shape(vals_list)
        ensure_workflow_fields(self, {name for vals in vals_list for name in vals})
        for vals in vals_list:
            company = self.env["res.company"].browse(vals.get("company_id")) or self.env.company
            vals["name"] = company._rma_vendor_return_sequence().next_by_id()
        return super().create(vals_list)

    def write(self, vals):
        ensure_workflow_fields(self, vals)
        if not is_server_write(self.env) and set(vals) - {"message_main_attachment_id"}:
            self._ensure_manager()
            closed = self.filtered(lambda vendor_return: vendor_return.state == "closed")
            if closed:
                raise UserError(
                    self.env._("%(names)s is closed: it is the record of the return.", names=closed[0].name)
                )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_started(self):
        if any(vendor_return.state != "draft" or vendor_return.line_ids for vendor_return in self):
            raise UserError(self.env._("Only an empty draft vendor RMA can be deleted."))

    # ------------------------------------------------------------------
    # Guards
    # ------------------------------------------------------------------
    def _ensure_manager(self):
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(self.env._("Only Returns Managers handle vendor RMAs."))

    def _ensure_state(self, state, action):
        wrong = self.filtered(lambda vendor_return: vendor_return.state != state)
        if wrong:
            labels = dict(self._fields["state"]._description_selection(self.env))
            raise UserError(
                self.env._(
                    "%(names)s: only a vendor RMA in %(state)s can be %(action)s.",
                    names=", ".join(wrong.mapped("name")),
                    state=labels[state],
                    action=action,
                )
            )

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_request(self):
        """Ask the vendor for the return of the draft's units."""
        self._ensure_manager()
        self._ensure_state("draft", self.env._("requested"))
        empty = self.filtered(lambda vendor_return: not vendor_return.line_ids)
        if empty:
            raise UserError(self.env._("%(name)s has no unit to return.", name=empty[0].name))
        server_write(self, {"state": "requested", "requested_date": fields.Datetime.now()})
        return True

    def action_ship(self):
        """Ship the units to the vendor: one outgoing transfer per vendor RMA, one move per unit (its serial), a
        purchase return (to_refund, linked to the purchase receipt's move), the units' value into Vendor Claims."""
        self._ensure_manager()
        self._ensure_state("requested", self.env._("shipped"))
        missing = self.filtered(lambda vendor_return: not vendor_return.authorization_number)
        if missing:
            raise UserError(
                self.env._("%(name)s: type the vendor's authorization number before shipping.", name=missing[0].name)
            )
        for vendor_return in self:
            vendor_return.line_ids._ship()
        return True

    def action_close(self):
        """Close the vendor RMAs whose units all have the vendor's answer (done by the last answer)."""
        self._ensure_manager()
        self._ensure_state("shipped", self.env._("closed"))
        pending = self.filtered(lambda vendor_return: not all(vendor_return.line_ids.mapped("answer")))
        if pending:
            raise UserError(
                self.env._("%(name)s: the vendor has not answered for every unit yet.", name=pending[0].name)
            )
        server_write(self, {"state": "closed", "closed_date": fields.Datetime.now()})
        return True

    def action_view_units(self):
        return self.line_ids.unit_id._get_records_action(name=self.env._("Units"))

    def action_view_pickings(self):
        return self.picking_ids._get_records_action(name=self.env._("Transfers"))

    def action_view_refunds(self):
        return self.line_ids.refund_line_id.move_id._get_records_action(name=self.env._("Vendor Credit Notes"))

    # ------------------------------------------------------------------
    # Grouping
    # ------------------------------------------------------------------
    @api.model
    def _add_units(self, units):
        """Put units dispositioned RTV into their vendor's draft vendor RMA (one per vendor and company)."""
        if not units:
            return self.browse()
        purchases = units._rtv_purchase_moves()
        # sudo: the vendor of the purchase, read for a returns manager who need not read purchase orders
        vendor_of = {
            unit: purchases[unit].sudo().purchase_line_id.order_id.partner_id.with_env(self.env) for unit in units
        }
        keys = {(vendor_of[unit], unit.company_id) for unit in units}
        drafts = self.search(
            [
                ("state", "=", "draft"),
                ("partner_id", "in", [partner.id for partner, _company in keys]),
                ("company_id", "in", units.company_id.ids),
            ]
        )
        draft_by_key = {(draft.partner_id, draft.company_id): draft for draft in drafts}
        missing = [key for key in keys if key not in draft_by_key]
        if missing:
            created = server_create(
                self, [{"partner_id": partner.id, "company_id": company.id} for partner, company in missing]
            )
            draft_by_key.update(zip(missing, created, strict=True))
        lines = server_create(
            self.env["rma.vendor.return.line"],
            [
                {
                    "vendor_return_id": draft_by_key[(vendor_of[unit], unit.company_id)].id,
                    "unit_id": unit.id,
                    "purchase_move_id": purchases[unit].id,
                }
                for unit in units
            ],
        )
        units._rtv_link(lines)
        return lines.vendor_return_id

    def _close_if_answered(self):
        done = self.filtered(
            lambda vendor_return: vendor_return.state == "shipped" and all(vendor_return.line_ids.mapped("answer"))
        )
        if done:
            server_write(done, {"state": "closed", "closed_date": fields.Datetime.now()})
            for vendor_return in done:
                vendor_return.message_post(body=self.env._("The vendor answered for every unit: closed."))


class RmaVendorReturnLine(models.Model):
    """A unit on a vendor RMA: what was sent (its move, its value), the vendor's answer and its documents."""

    _name = "rma.vendor.return.line"
    _inherit = ["rma.input.mixin"]
    _description = "Vendor RMA Unit"
    _order = "vendor_return_id, id"
    _check_company_auto = True

    vendor_return_id = fields.Many2one(
        "rma.vendor.return", string="Vendor RMA", required=True, readonly=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="vendor_return_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    state = fields.Selection(related="vendor_return_id.state")
    unit_id = fields.Many2one("rma.line", required=True, readonly=True, index=True, check_company=True)
    rma_id = fields.Many2one(related="unit_id.rma_id")
    product_id = fields.Many2one(related="unit_id.product_id")
    lot_id = fields.Many2one(related="unit_id.lot_id", string="Serial Number")
    purchase_move_id = fields.Many2one(
        "stock.move", string="Purchase Receipt", readonly=True, help="The move that received the unit from the vendor."
    )
    purchase_line_id = fields.Many2one(related="purchase_move_id.purchase_line_id", string="Purchase Line")
    ship_move_id = fields.Many2one("stock.move", string="Shipment", readonly=True, copy=False)
    shipped_date = fields.Datetime(readonly=True, copy=False)
    value_sent = fields.Monetary(
        currency_field="currency_id", readonly=True, copy=False, help="Its book value when it left for the vendor."
    )
    answer = fields.Selection(VENDOR_ANSWERS, readonly=True, copy=False, index=True)
    answer_date = fields.Datetime(readonly=True, copy=False)
    replacement_serial = fields.Char(help="The serial of the unit the vendor sends in replacement.")
    receipt_move_id = fields.Many2one("stock.move", string="Received Back", readonly=True, copy=False)
    refund_line_id = fields.Many2one("account.move.line", string="Credit Note Line", readonly=True, copy=False)
    refund_id = fields.Many2one(related="refund_line_id.move_id", string="Vendor Credit Note")
    value_recovered = fields.Monetary(
        currency_field="currency_id",
        readonly=True,
        copy=False,
        help="Credited amount (credit) or the replacement's value (replacement).",
    )
    entry_ids = fields.Many2many("account.move", string="Journal Entries", readonly=True, copy=False)
    partner_id = fields.Many2one(related="vendor_return_id.partner_id", string="Vendor", store=True, index=True)
    turnaround_days = fields.Float(
        string="Vendor Turnaround (Days)",
        compute="_compute_turnaround_days",
        store=True,
        aggregator="avg",
        help="Days from the shipment to the vendor's answer (the KPIs' vendor turnaround).",
    )

    @api.depends("shipped_date", "answer_date")
    def _compute_turnaround_days(self):
        for line in self:
            answered = line.shipped_date and line.answer_date
            line.turnaround_days = (line.answer_date - line.shipped_date).total_seconds() / 86400.0 if answered else 0.0

    @api.model_create_multi
    def create(self, vals_list):
        self._check_input_shape(vals_list)
        ensure_workflow_fields(self, {name for vals in vals_list for name in vals})
        return super().create(vals_list)

    def write(self, vals):
        ensure_workflow_fields(self, vals)
        if not is_server_write(self.env):
            self.vendor_return_id._ensure_manager()
        return super().write(vals)

    # ------------------------------------------------------------------
    # The vendor's answer (buttons on the vendor RMA's units)
    # ------------------------------------------------------------------
    def action_answer_credit(self):
        return self._answer("credit")

    def action_answer_replacement(self):
        return self._answer("replacement")

    def action_answer_repaired(self):
        return self._answer("repaired")

    def action_answer_rejected(self):
        return self._answer("rejected")

    def action_withdraw(self):
        """Take units off a vendor RMA not shipped yet (the vendor refuses the authorization, the unit is disposed
        otherwise): they go back to inspection, to be disposed again."""
        self.vendor_return_id._ensure_manager()
        shipped = self.filtered(lambda line: line.state not in ("draft", "requested"))
        if shipped:
            raise UserError(
                self.env._(
                    "%(unit)s has left for the vendor: it comes back with the vendor's answer.",
                    unit=shipped[0].unit_id.display_name,
                )
            )
        units = self.unit_id
        units._lock_units()
        for vendor_return, lines in self.grouped("vendor_return_id").items():
            vendor_return.message_post(
                body=self.env._("Withdrawn: %(units)s", units=", ".join(lines.unit_id.mapped("display_name")))
            )
        server_write(units, {"vendor_return_id": False})
        # sudo: the vendor RMA's units are the server's records (no unlink right); the guard above ran
        self.sudo().unlink()
        units._rtv_back_to_inspection(self.env._("Withdrawn from the vendor RMA"))
        return True

    def _answer(self, answer):
        """Record the vendor's answer for these units, all or nothing, and do what it means: a vendor credit note
        (credit), a receipt of a new serial (replacement), of the same serial into graded stock (repaired) or back
        to quarantine to be disposed again (rejected)."""
        self.vendor_return_id._ensure_manager()
        self.vendor_return_id._ensure_state("shipped", self.env._("answered"))
        answered = self.filtered("answer")
        if answered:
            raise UserError(
                self.env._("%(unit)s already has the vendor's answer.", unit=answered[0].unit_id.display_name)
            )
        if answer == "replacement":
            no_serial = self.filtered(lambda line: not (line.replacement_serial or "").strip())
            if no_serial:
                raise UserError(
                    self.env._(
                        "%(unit)s: type the serial of the replacement unit first.",
                        unit=no_serial[0].unit_id.display_name,
                    )
                )
        self.unit_id._lock_units()
        now = fields.Datetime.now()
        if answer == "credit":
            self._answer_credit()
        else:
            self._answer_receive(answer)
        server_write(self, {"answer": answer, "answer_date": now})
        labels = dict(VENDOR_ANSWERS)
        for vendor_return, lines in self.grouped("vendor_return_id").items():
            vendor_return.message_post(
                body=self.env._(
                    "Vendor's answer %(answer)s: %(units)s",
                    answer=labels[answer],
                    units=", ".join(lines.unit_id.mapped("display_name")),
                )
            )
        self.vendor_return_id._close_if_answered()
        return True

    # ------------------------------------------------------------------
    # Steps
    # ------------------------------------------------------------------
    def _ship(self):
        """One transfer to the vendor for these units (of one vendor RMA), done at once."""
        vendor_return = self.vendor_return_id
        vendor_return.ensure_one()
        not_here = self.unit_id.filtered(
            lambda unit: unit.state != "disposition" or unit.location_id.usage != "internal"
        )
        if not_here:
            raise UserError(self.env._("%(unit)s is not in our stock to be shipped.", unit=not_here[0].display_name))
        self.unit_id._lock_units()
        supplier = vendor_return.partner_id.property_stock_supplier or self.env.ref("stock.stock_location_suppliers")
        warehouse = self.unit_id.rma_id.warehouse_id[:1]
        picking_type = warehouse.out_type_id
        if not picking_type:
            raise UserError(self.env._("Warehouse %(name)s has no delivery type.", name=warehouse.display_name))
        move_vals = []
        for line in self:
            unit = line.unit_id
            vals = unit._prepare_custody_move_vals(supplier)
            vals.update(
                {
                    "picking_type_id": picking_type.id,
                    "partner_id": vendor_return.partner_id.id,
                    "origin": vendor_return.name,
                    "purchase_line_id": line.purchase_line_id.id,
                    "origin_returned_move_id": line.purchase_move_id.id,
                    "to_refund": True,
                }
            )
            move_vals.append(vals)
        # A stock user may not create transfers of returned units: the server does, after the manager's guard.
        picking = server_create(
            self.env["stock.picking"],
            [
                {
                    "picking_type_id": picking_type.id,
                    "partner_id": vendor_return.partner_id.id,
                    "location_id": self.unit_id[:1].location_id.id,
                    "location_dest_id": supplier.id,
                    "origin": f"{vendor_return.name} {vendor_return.authorization_number}",
                    "company_id": vendor_return.company_id.id,
                }
            ],
        )
        for vals in move_vals:
            vals["picking_id"] = picking.id
        moves = self.unit_id._create_unit_moves(move_vals)
        self.unit_id._validate_unit_moves(moves)
        now = fields.Datetime.now()
        move_by_unit = {move.rma_line_id: move for move in moves}
        for line in self:
            move = move_by_unit[line.unit_id]
            server_write(line, {"ship_move_id": move.id, "shipped_date": now, "value_sent": move.value})
        self._post_claim_entries("ship")
        destinations = dict.fromkeys(self.unit_id, supplier)
        self.env["rma.custody.event"]._log(
            self.unit_id,
            "shipment",
            destination=destinations,
            note=self.env._(
                "%(name)s to %(vendor)s (authorization %(number)s)",
                name=vendor_return.name,
                vendor=vendor_return.partner_id.name,
                number=vendor_return.authorization_number,
            ),
        )
        self.unit_id._set_location(destinations)
        server_write(
            vendor_return,
            {"state": "shipped", "shipped_date": now, "picking_ids": [Command.link(picking.id)]},
        )

    def _answer_credit(self):
        """A vendor credit note (in_refund) for the units, priced from their purchase lines, through Odoo's purchase
        flow: its lines name the purchase line (the PO's received quantity already dropped with the return's
        to_refund). Its lines for the units hit Vendor Claims (account.move.line._compute_account_id)."""
        vendor_return = self.vendor_return_id
        # sudo: the purchase lines price the credit note, for a returns manager who need not read purchase orders
        purchase_order = self.sudo().purchase_line_id.order_id
        # sudo: the company's purchase journal, for a returns manager who need not read the accounting journals
        journal = (
            self.env["account.journal"]
            .sudo()
            .search(
                [
                    *self.env["account.journal"]._check_company_domain(vendor_return.company_id),
                    ("type", "=", "purchase"),
                ],
                limit=1,
            )
        )
        invoice_lines = []
        for line in self:
            purchase_line = line.sudo().purchase_line_id
            invoice_lines.append(
                Command.create(
                    {
                        **purchase_line._prepare_account_move_line(),
                        "quantity": line.ship_move_id.quantity,
                        "rma_vendor_line_id": line.id,
                    }
                )
            )
        # sudo: the vendor credit note is an accountant's document, created and posted for the returns manager after
        # the guard.
        refund = (
            self.env["account.move"]
            .sudo()
            .with_company(vendor_return.company_id)
            .create(
                {
                    "move_type": "in_refund",
                    "partner_id": vendor_return.partner_id.id,
                    "company_id": vendor_return.company_id.id,
                    "journal_id": journal.id,
                    "currency_id": purchase_order[:1].currency_id.id or vendor_return.currency_id.id,
                    "invoice_origin": vendor_return.name,
                    "ref": vendor_return.authorization_number,
                    "invoice_date": fields.Date.context_today(self),
                    "invoice_line_ids": invoice_lines,
                }
            )
        )
        # Posted as a credit note, never as a cancellation: a client's move_reverse_cancel would skip the price
        # difference lines that clear Vendor Claims, and Odoo's revaluation of the purchase line's receipts.
        refund.with_context(move_reverse_cancel=False).action_post()
        for line in self:
            refund_line = refund.invoice_line_ids.filtered(lambda aml, line=line: aml.rma_vendor_line_id == line)
            # sudo: the link to the credit note, recorded for the returns manager who need not read journal items
            line.sudo().write({"refund_line_id": refund_line.id, "value_recovered": abs(refund_line.balance)})
        self.unit_id._transition("closed", note=self.env._("Credited by the vendor"))

    def _answer_receive(self, answer):
        """The unit (repaired, rejected) or its replacement comes back from the vendor: a receipt, valued at the
        value sent, linked to the return as Odoo's return of a return (the PO's received quantity comes back up)."""
        vendor_return = self.vendor_return_id
        supplier = vendor_return.partner_id.property_stock_supplier or self.env.ref("stock.stock_location_suppliers")
        lot_by_line = {}
        if answer == "replacement":
            # sudo: serials are stock records a returns manager creates through the step
            lots = (
                self.env["stock.lot"]
                .sudo()
                .create(
                    [
                        {
                            "name": line.replacement_serial.strip(),
                            "product_id": line.product_id.id,
                            "company_id": line.company_id.id,
                        }
                        for line in self
                    ]
                )
            )
            lot_by_line = dict(zip(self, lots, strict=True))
        destination_by_line = {}
        for line in self:
            warehouse = line.unit_id.rma_id.warehouse_id
            destination_by_line[line] = (
                warehouse.rma_quarantine_location_id
                if answer == "rejected"
                else warehouse.rma_graded_location_id or warehouse.lot_stock_id
            )
        picking_type = self.unit_id.rma_id.warehouse_id[:1].in_type_id
        picking = server_create(
            self.env["stock.picking"],
            [
                {
                    "picking_type_id": picking_type.id,
                    "partner_id": vendor_return.partner_id.id,
                    "location_id": supplier.id,
                    "location_dest_id": destination_by_line[self[:1]].id,
                    "origin": f"{vendor_return.name} {vendor_return.authorization_number}",
                    "company_id": vendor_return.company_id.id,
                }
            ],
        )
        move_vals = []
        for line in self:
            unit, destination = line.unit_id, destination_by_line[line]
            quantity = line.ship_move_id.quantity
            lot = lot_by_line.get(line, unit.lot_id)
            move_vals.append(
                {
                    "product_id": unit.product_id.id,
                    "product_uom": unit.product_uom_id.id,
                    "product_uom_qty": quantity,
                    "location_id": supplier.id,
                    "location_dest_id": destination.id,
                    "company_id": unit.company_id.id,
                    "origin": vendor_return.name,
                    "picking_id": picking.id,
                    "picking_type_id": picking_type.id,
                    "partner_id": vendor_return.partner_id.id,
                    "purchase_line_id": line.purchase_line_id.id,
                    "origin_returned_move_id": line.ship_move_id.id,
                    "to_refund": True,
                    # the replacement is another unit: the returned unit's moves stop at the vendor
                    "rma_line_id": unit.id if answer != "replacement" else False,
                    "picked": True,
                    "move_line_ids": [
                        Command.create(
                            {
                                "product_id": unit.product_id.id,
                                "product_uom_id": unit.product_uom_id.id,
                                "lot_id": lot.id,
                                "quantity": quantity,
                                "location_id": supplier.id,
                                "location_dest_id": destination.id,
                                "company_id": unit.company_id.id,
                            }
                        )
                    ],
                }
            )
        moves = self.unit_id._create_unit_moves(move_vals)
        # Back at the value sent (standard cost: Odoo values it at the standard price, the difference is posted).
        self.unit_id._create_move_values(
            {
                move: line.value_sent
                for line, move in zip(self, moves, strict=True)
                if move.product_id.cost_method != "standard"
            }
        )
        self.unit_id._validate_unit_moves(moves)
        for line, move in zip(self, moves, strict=True):
            vals = {"receipt_move_id": move.id}
            if answer == "replacement":
                vals["value_recovered"] = move.value
            server_write(line, vals)
        self._post_claim_entries("receive")
        server_write(vendor_return, {"picking_ids": [Command.link(picking.id)]})
        units = self.unit_id
        if answer == "replacement":
            units._transition("closed", note=self.env._("Replaced by the vendor"))
            return
        destinations = {line.unit_id: destination_by_line[line] for line in self}
        self.env["rma.custody.event"]._log(
            units,
            "receipt",
            location=dict.fromkeys(units, supplier),
            destination=destinations,
            note=self.env._(
                "Back from %(vendor)s (%(name)s)", vendor=vendor_return.partner_id.name, name=vendor_return.name
            ),
        )
        units._set_location(destinations)
        if answer == "repaired":
            server_write(units, {"work_finished_date": fields.Datetime.now()})
            units._transition("ready", note=self.env._("Repaired by the vendor"))
        else:
            units._rtv_back_to_inspection(self.env._("Rejected by the vendor"))

    def _post_claim_entries(self, step):
        """Real-time valuation: the units' value moves between stock and Vendor Claims in the RMA journal, as Odoo
        valued their moves (Odoo posts nothing for moves to or from a vendor's location: none carries a valuation
        account). Shipping: Dr Vendor Claims / Cr Stock at the move's value. Received back: Dr Stock at the receipt's
        value / Cr Vendor Claims at the value sent, a standard-cost difference to the price difference account.
        Periodic valuation: nothing (the closing aligns the stock accounts; the vendor credit note follows Odoo)."""
        items = self.env["account.move.line"]
        line_vals = []
        entry_lines = self.browse()
        for line in self:
            unit = line.unit_id
            if line.product_id.valuation != "real_time":
                continue
            move = line.ship_move_id if step == "ship" else line.receipt_move_id
            accounts = line.product_id.product_tmpl_id.with_company(line.company_id)._get_product_accounts()
            stock_account = accounts["stock_valuation"]
            claims = line.company_id._get_rma_vendor_claims_account()
            label = items._rma_label(unit, unit.disposition_id.code or "RTV")
            if step == "ship":
                line_vals += items._rma_entry_line_vals(unit, claims, stock_account, move.value, label)
            else:
                line_vals += items._rma_entry_line_vals(unit, stock_account, claims, move.value, label)
                difference = line.value_sent - move.value
                if not line.currency_id.is_zero(difference):
                    pdiff = line.product_id.categ_id.with_company(line.company_id).property_price_difference_account_id
                    pdiff = pdiff or accounts["expense"]
                    debit, credit = (pdiff, claims) if difference > 0 else (claims, pdiff)
                    line_vals += items._rma_entry_line_vals(unit, debit, credit, abs(difference), label)
            entry_lines |= line
        if not line_vals:
            return
        entry = self.env["account.move"]._rma_create_entry(
            self.company_id[:1],
            [vals for vals in line_vals if vals["debit"] or vals["credit"]],
            self.vendor_return_id[:1].name,
        )
        # sudo: the link to the entries, recorded for the returns manager who need not read journal entries
        entry_lines.sudo().write({"entry_ids": [Command.link(entry.id)]})


class RmaVendorWarranty:
    """The vendor's warranty of a unit: bought from a vendor (its purchase receipt, found through its serial) and
    covered (receipt date + the vendor's warranty months, from its product info or the product's category)."""

    @staticmethod
    def months(product, vendor, company):
        sellers = product.seller_ids.filtered(
            lambda seller: (
                seller.partner_id.commercial_partner_id == vendor.commercial_partner_id
                and seller.company_id in (company, seller.env["res.company"])
            )
        )
        months = max(sellers.mapped("rma_warranty_months") or [0])
        return months or product.categ_id.rma_vendor_warranty_months

    @staticmethod
    def end_date(receipt_date, months):
        return fields.Date.to_date(receipt_date) + relativedelta(months=months) if months else False
