from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from .rma_workflow_guard import MANAGER_GROUP, ensure_workflow_fields, field_labels, server_owned, server_write


class RmaOrder(models.Model):
    _name = "rma.order"
    _description = "Return Merchandise Authorization"
    _inherit = ["portal.mixin", "mail.thread", "mail.activity.mixin", "rma.input.mixin"]
    _order = "request_date desc, id desc"
    _check_company_auto = True
    _rec_names_search = ["name", "customer_reference", "partner_id"]
    # The request's identities: fixed once a manager has decided on them (authorization, rejection). The reason too:
    # the restocking fee and the inspection follow it.
    _frozen_fields = ("partner_id", "company_id", "warehouse_id", "sale_order_id", "picking_id", "reason_id")

    # ------------------------------------------------------------------
    # Identification
    # ------------------------------------------------------------------
    name = fields.Char(
        string="RMA Number",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Issued when the RMA is authorized; the number follows the unit through every later stage.",
    )
    state = fields.Selection(
        [
            ("draft", "Requested"),
            ("authorized", "Authorized"),
            ("in_progress", "In Progress"),
            ("done", "Closed"),
            ("rejected", "Rejected"),
            ("cancel", "Cancelled"),
        ],
        string="Status",
        compute="_compute_state",
        store=True,
        readonly=True,
        copy=False,
        index=True,
        tracking=True,
        help="Computed from the units' status (see rma.line's UNIT_TRANSITIONS).\n"
        "Requested: the customer's request, checks shown, waiting for a manager.\n"
        "Authorized: an RMA number is issued; the units may be shipped back.\n"
        "In Progress: units have arrived; each follows its own status.\n"
        "Closed: every unit is closed and its remedy done.\n"
        "Rejected: a manager refused the return, with a reason.\n"
        "Cancelled: withdrawn.",
    )
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    warehouse_id = fields.Many2one(
        "stock.warehouse",
        string="Return Warehouse",
        required=True,
        check_company=True,
        compute="_compute_warehouse_id",
        store=True,
        readonly=False,
        precompute=True,
        help="Where the units are to be shipped back; its address is printed on the label.",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Responsible",
        default=lambda self: self.env.user,
        tracking=True,
        domain="[('share', '=', False)]",
    )

    # ------------------------------------------------------------------
    # The customer's request
    # ------------------------------------------------------------------
    partner_id = fields.Many2one("res.partner", string="Customer", required=True, tracking=True, check_company=True)
    commercial_partner_id = fields.Many2one(related="partner_id.commercial_partner_id")
    sale_order_id = fields.Many2one(
        "sale.order",
        string="Original Sale Order",
        check_company=True,
        domain="[('partner_id', 'child_of', commercial_partner_id)]",
    )
    picking_id = fields.Many2one(
        "stock.picking",
        string="Original Delivery",
        check_company=True,
        domain="[('picking_type_code', '=', 'outgoing'), ('state', '=', 'done'),"
        " ('partner_id', 'child_of', commercial_partner_id)]",
    )
    customer_reference = fields.Char(
        string="Customer Order Ref.", help="The customer's order or purchase-order number, as they typed it."
    )
    reason_id = fields.Many2one("rma.reason", string="Return Reason", required=True, check_company=True, tracking=True)
    description = fields.Html(string="Customer Description")
    proof_attachment_ids = fields.Many2many(
        "ir.attachment",
        "rma_order_proof_attachment_rel",
        "rma_id",
        "attachment_id",
        string="Proof of Purchase",
        help="Invoice, receipt or delivery note sent by the customer.",
    )
    request_date = fields.Datetime(
        string="Requested On",
        required=True,
        readonly=True,
        default=fields.Datetime.now,
        copy=False,
        help="Set by the server when the request is recorded.",
    )

    # ------------------------------------------------------------------
    # Decision
    # ------------------------------------------------------------------
    authorize_date = fields.Datetime(string="Authorized On", readonly=True, copy=False)
    authorized_by_id = fields.Many2one("res.users", readonly=True, copy=False)
    reject_reason = fields.Text(readonly=True, copy=False, tracking=True)

    # ------------------------------------------------------------------
    # Units and check results
    # ------------------------------------------------------------------
    line_ids = fields.One2many("rma.line", "rma_id", string="Units", copy=True)
    line_count = fields.Integer(compute="_compute_line_count", string="Unit Count")
    has_flag = fields.Boolean(
        string="Has Open Flags",
        compute="_compute_has_flag",
        store=True,
        help="A unit failed a check and no manager has overridden it yet.",
    )
    # As superuser: the units' serials, shown to the accountants who read the RMA without Inventory's access to lots.
    lot_ids = fields.Many2many("stock.lot", compute="_compute_lot_ids", compute_sudo=True, string="Serial Numbers")
    receipt_picking_ids = fields.One2many("stock.picking", "rma_id", string="Receipts", readonly=True)
    receipt_count = fields.Integer(compute="_compute_receipt_count")
    move_count = fields.Integer(compute="_compute_move_count", string="Stock Moves")
    custody_event_count = fields.Integer(compute="_compute_custody_event_count", string="Custody Events")
    journal_item_count = fields.Integer(compute="_compute_journal_item_count", string="Journal Items")
    can_be_authorized = fields.Boolean(compute="_compute_can_be")
    can_be_rejected = fields.Boolean(compute="_compute_can_be")
    can_be_cancelled = fields.Boolean(compute="_compute_can_be")
    can_be_reset = fields.Boolean(compute="_compute_can_be")

    # Scans match an RMA number whatever its case (rma.scan.receive_scan): that expression, indexed.
    _name_key_idx = models.Index("(lower(name))")
    _name_company_uniq = models.Constraint(
        "UNIQUE(name, company_id)",
        "An RMA number must be unique per company.",
    )

    # ------------------------------------------------------------------
    # Compute
    # ------------------------------------------------------------------
    @api.depends("name")
    def _compute_display_name(self):
        for rma in self:
            rma.display_name = rma.name or self.env._("Draft RMA #%(id)s", id=rma._origin.id or "")

    @api.depends("company_id")
    def _compute_warehouse_id(self):
        warehouses = self.env["stock.warehouse"].search(
            [("company_id", "in", self.company_id.ids)], order="sequence, id"
        )
        first_by_company = {}
        for warehouse in warehouses:
            first_by_company.setdefault(warehouse.company_id, warehouse)
        for rma in self:
            if rma.warehouse_id.company_id != rma.company_id:
                rma.warehouse_id = first_by_company.get(rma.company_id)

    @api.depends("line_ids")
    def _compute_line_count(self):
        for rma in self:
            rma.line_count = len(rma.line_ids)

    @api.depends("line_ids.receipt_move_ids")
    def _compute_move_count(self):
        for rma in self:
            rma.move_count = len(rma.line_ids.receipt_move_ids)

    @api.depends("line_ids.account_move_line_ids")
    def _compute_journal_item_count(self):
        for rma in self:
            rma.journal_item_count = len(rma.line_ids.account_move_line_ids)

    @api.depends("line_ids.custody_sequence")
    def _compute_custody_event_count(self):
        for rma in self:
            rma.custody_event_count = sum(rma.line_ids.mapped("custody_sequence"))

    @api.depends("line_ids.has_flag", "line_ids.is_overridden")
    def _compute_has_flag(self):
        for rma in self:
            rma.has_flag = any(line.has_flag and not line.is_overridden for line in rma.line_ids)

    @api.depends("line_ids.lot_id")
    def _compute_lot_ids(self):
        for rma in self:
            rma.lot_ids = rma.line_ids.lot_id

    @api.depends("line_ids.state", "line_ids.remedy_state")
    def _compute_state(self):
        """The RMA follows its units: decided with them, in progress once one arrives, closed when all are and
        their remedies are done (credit notes posted, replacements and repaired units delivered)."""
        for rma in self:
            states = set(rma.line_ids.mapped("state"))
            active = states - {"rejected", "cancel"}
            if not states or "draft" in states:
                rma.state = "draft"
            elif not active:
                rma.state = "rejected" if "rejected" in states else "cancel"
            elif active == {"closed"} and "pending" not in rma.line_ids.mapped("remedy_state"):
                rma.state = "done"
            elif active == {"authorized"}:
                rma.state = "authorized"
            else:
                rma.state = "in_progress"

    @api.depends("receipt_picking_ids")
    def _compute_receipt_count(self):
        for rma in self:
            rma.receipt_count = len(rma.receipt_picking_ids)

    @api.depends(
        "state",
        "line_ids.state",
        "line_ids.quantity_received",
        "line_ids.credit_note_line_id.parent_state",
        "line_ids.remedy_move_ids.state",
    )
    def _compute_can_be(self):
        for rma in self:
            rma.can_be_authorized = rma.state == "draft"
            rma.can_be_rejected = rma.state == "draft"
            # Nothing of it has arrived: not even part of an untracked unit.
            rma.can_be_cancelled = rma.state == "draft" or (
                rma.state == "authorized"
                and all(
                    line.state == "authorized" and not line.quantity_received and not line.is_remedy_started
                    for line in rma.line_ids
                )
            )
            rma.can_be_reset = rma.state in ("rejected", "cancel")

    # ------------------------------------------------------------------
    # Onchange
    # ------------------------------------------------------------------
    @api.onchange("sale_order_id")
    def _onchange_sale_order_id(self):
        if self.sale_order_id and not self.partner_id:
            self.partner_id = self.sale_order_id.partner_id

    @api.onchange("picking_id")
    def _onchange_picking_id(self):
        if self.picking_id:
            self.partner_id = self.partner_id or self.picking_id.partner_id
            self.sale_order_id = self.sale_order_id or self.picking_id.sale_id

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        self._check_input_shape(vals_list)
        if any(not vals.get("reason_id") for vals in vals_list):
            raise ValidationError(self.env._("Choose the reason of the return."))
        ensure_workflow_fields(self, {name for vals in vals_list for name in vals})
        return super().create(vals_list)

    def write(self, vals):
        ensure_workflow_fields(self, vals)
        self._ensure_identities_unchanged(vals)
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_decided(self):
        if any(rma.state != "draft" for rma in self):
            raise UserError(self.env._("Only requested RMAs can be deleted; cancel the others instead."))

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_authorize(self):
        """Issue the RMA numbers. Flagged units need a manager's override first."""
        self._ensure_can_be_authorized()
        self._assign_rma_numbers()
        now = fields.Datetime.now()
        server_write(self, {"authorize_date": now, "authorized_by_id": self.env.uid})
        self.line_ids._transition("authorized", date=now)
        self.env["rma.cogs.reversal"]._allocate_earlier_credit_notes(self.line_ids)
        self._create_receipt_pickings()
        self._rma_notify("authorized")
        return True

    def action_reject(self, reason):
        self._ensure_can_be_rejected(reason)
        server_write(self, {"reject_reason": reason})
        self.line_ids._transition("rejected")
        self._rma_notify("rejected")
        return True

    def action_cancel(self):
        self._ensure_manager()
        self._ensure_can_be_cancelled()
        self.receipt_picking_ids.filtered(lambda picking: picking.state != "cancel").action_cancel()
        self.line_ids._transition("cancel")
        return True

    def action_reset_to_draft(self):
        self._ensure_manager()
        if not all(self.mapped("can_be_reset")):
            raise UserError(self.env._("Only rejected or cancelled RMAs can be set back to requested."))
        server_write(self, {"reject_reason": False})
        self.line_ids._transition("draft")
        self.line_ids._run_checks()
        return True

    def action_run_checks(self):
        """Re-run the checks of requested RMAs (stock and other RMAs change without touching them)."""
        self._ensure_can_run_checks()
        self.line_ids._run_checks()
        return True

    def action_open_reject_wizard(self):
        return self._open_wizard("rma.reject.wizard", self.env._("Reject RMA"))

    def action_open_override_wizard(self):
        return self._open_wizard("rma.override.wizard", self.env._("Override Flags"))

    def action_print_label(self):
        return self.env.ref("rma_recovery.action_report_rma_label").report_action(self)

    def action_view_receipts(self):
        return self.receipt_picking_ids._get_records_action(name=self.env._("Receipts"))

    def action_view_delivery(self):
        return self.picking_id._get_records_action(name=self.env._("Original Delivery"))

    def action_view_sale_order(self):
        return self.sale_order_id._get_records_action(name=self.env._("Original Sale Order"))

    def action_view_lots(self):
        return self.lot_ids._get_records_action(name=self.env._("Serial Numbers"))

    def action_view_moves(self):
        return self.line_ids.receipt_move_ids._get_records_action(name=self.env._("Stock Moves"))

    def action_view_journal_items(self):
        action = self.env["ir.actions.act_window"]._for_xml_id("rma_recovery.account_move_line_action_rma")
        action["domain"] = [("rma_id", "in", self.ids)]
        return action

    def action_view_custody_events(self):
        return self.line_ids.custody_event_ids._get_records_action(name=self.env._("Chain of Custody"))

    def action_open_receive_screen(self):
        return {
            "type": "ir.actions.client",
            "tag": "rma_recovery.receive",
            "name": self.env._("Receive Returns"),
            "params": {"rma_id": self.id},
        }

    # ------------------------------------------------------------------
    # Guards
    # ------------------------------------------------------------------
    def _ensure_manager(self):
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(
                self.env._("Only a Returns Manager can authorize, reject, cancel, reset or override RMAs.")
            )

    def _ensure_identities_unchanged(self, vals):
        """Once decided, an RMA keeps the customer, company, warehouse and order it was decided on."""
        changed = [
            name
            for name in set(vals) & set(self._frozen_fields)
            for rma in self
            if rma.state != "draft" and rma._fields[name].convert_to_write(rma[name], rma) != vals[name]
        ]
        if changed:
            raise UserError(
                self.env._(
                    "%(fields)s cannot change once the RMA is decided: %(rmas)s.",
                    fields=field_labels(self, changed),
                    rmas=", ".join(self.filtered(lambda rma: rma.state != "draft").mapped("display_name")),
                )
            )

    def _ensure_can_run_checks(self):
        """The checks store each unit's serial and delivery links, which the receipt's value and the COGS matching
        follow once the RMA is decided: they are re-run only on requested RMAs, by whoever may edit them."""
        self.check_access("write")
        decided = self.filtered(lambda rma: rma.state != "draft")
        if decided:
            raise UserError(
                self.env._(
                    "Checks are re-run only on requested RMAs: the checks of %(rmas)s are those the decision was"
                    " made on.",
                    rmas=", ".join(decided.mapped("display_name")),
                )
            )

    def _ensure_can_be_authorized(self):
        self._ensure_manager()
        not_draft = self.filtered(lambda rma: not rma.can_be_authorized)
        if not_draft:
            raise UserError(
                self.env._(
                    "Only requested RMAs can be authorized: %(rmas)s", rmas=", ".join(not_draft.mapped("display_name"))
                )
            )
        empty = self.filtered(lambda rma: not rma.line_ids)
        if empty:
            raise UserError(
                self.env._(
                    "Add the returned units before authorizing %(rmas)s.", rmas=", ".join(empty.mapped("display_name"))
                )
            )
        no_proof = self.filtered(lambda rma: rma.reason_id.is_proof_required and not rma.proof_attachment_ids)
        if no_proof:
            raise UserError(
                self.env._(
                    "The return reason requires a proof of purchase: attach it to %(rmas)s.",
                    rmas=", ".join(no_proof.mapped("display_name")),
                )
            )
        # The checks depend on stock and other RMAs, which may have changed since the request.
        self.line_ids._run_checks()
        flagged = self.line_ids.filtered(lambda line: line.has_flag and not line.is_overridden)
        if flagged:
            raise UserError(
                self.env._(
                    "These units failed a check; a manager must override them with a reason first:\n%(units)s",
                    units="\n".join(f"- {line.display_name}: {line.flag_summary}" for line in flagged),
                )
            )

    def _ensure_can_be_rejected(self, reason):
        self._ensure_manager()
        if not isinstance(reason, str) or not reason.strip():
            raise UserError(self.env._("Give the reason for rejecting the return."))
        if not all(self.mapped("can_be_rejected")):
            raise UserError(self.env._("Only requested RMAs can be rejected."))
        self._ensure_has_units()

    def _ensure_can_be_cancelled(self):
        if not all(self.mapped("can_be_cancelled")):
            raise UserError(
                self.env._(
                    "Only requested RMAs, or authorized ones whose units have not arrived and got no remedy (credit"
                    " note, replacement), can be cancelled."
                )
            )
        self._ensure_has_units()

    def _ensure_has_units(self):
        """An RMA's status is its units': a request without units is deleted, not decided."""
        empty = self.filtered(lambda rma: not rma.line_ids)
        if empty:
            raise UserError(
                self.env._(
                    "%(rmas)s has no units: delete the request instead.", rmas=", ".join(empty.mapped("display_name"))
                )
            )

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------
    def _assign_rma_numbers(self):
        """Number the RMAs from their company's sequence, one query per company rather than per RMA."""
        sequences = self.env["ir.sequence"].search(
            [("code", "=", "rma.order"), ("company_id", "in", self.company_id.ids)]
        )
        sequence_by_company = {sequence.company_id: sequence for sequence in sequences}
        for company, rmas in self.grouped("company_id").items():
            sequence = sequence_by_company.get(company)
            if not sequence:
                company._create_rma_sequences()
                sequence = self.env["ir.sequence"].search([("code", "=", "rma.order"), ("company_id", "=", company.id)])
            for rma, number in zip(server_owned(rmas), sequence._rma_next_numbers(len(rmas)), strict=True):
                rma.name = number

    def _create_receipt_pickings(self, lines=None):
        """One receipt per authorized RMA, ready to receive: a move per unit (``lines``: those expected, all by
        default), linked to the unit's delivery and sale line as Odoo's own returns are (see
        stock.picking._prepare_rma_receipt_move_vals)."""
        lines = self.line_ids if lines is None else lines
        pickings = self.env["stock.picking"]._create_rma_receipts(self)
        picking_by_rma = dict(zip(self, pickings, strict=True))
        moves = lines._create_unit_moves(
            [picking_by_rma[line.rma_id]._prepare_rma_receipt_move_vals(line) for line in lines]
        )
        # One move per unit: Odoo would merge the units of one product into one move. Goods from a customer
        # reserve nothing: confirmed, the moves are ready to receive.
        moves._action_confirm(merge=False)
        return pickings

    def _get_receipt_pickings(self):
        """{rma: its receipt}: the open one, else the last one received, else a new one (an RMA authorized before
        receipts were documents)."""
        receipts = {}
        for picking in self.receipt_picking_ids.sorted("id"):
            if picking.state != "cancel" and (picking.rma_id not in receipts or picking.state != "done"):
                receipts[picking.rma_id] = picking
        missing = self.filtered(lambda rma: rma not in receipts)
        if missing:
            pickings = self.env["stock.picking"]._create_rma_receipts(missing)
            receipts.update(zip(missing, pickings, strict=True))
        return {rma.with_env(self.env): picking.with_env(self.env) for rma, picking in receipts.items()}

    def _open_wizard(self, model, title):
        return {
            "type": "ir.actions.act_window",
            "name": title,
            "res_model": model,
            "view_mode": "form",
            "target": "new",
            "context": {"active_model": self._name, "active_ids": self.ids},
        }
