from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import format_date

from .rma_disposition import REPAIR_LEVELS, WORK_TREATMENTS
from .rma_line import STATE_AFTER_DISPOSITION
from .rma_workflow_guard import (
    MANAGER_GROUP,
    ensure_workflow_fields,
    is_server_write,
    server_create,
    server_owned,
    server_write,
)


class RmaDispositionBatch(models.Model):
    """A disposition decision with its money: the units, their codes and values, who prepared it and who
    confirmed it. Confirming it disposes every unit at once, all or nothing (action_confirm runs every step)."""

    _name = "rma.disposition.batch"
    _inherit = ["mail.thread", "mail.activity.mixin", "rma.input.mixin"]
    _description = "Disposition Batch"
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(string="Reference", readonly=True, copy=False, index="trigram")
    state = fields.Selection(
        [("draft", "Draft"), ("done", "Done"), ("cancel", "Cancelled")],
        string="Status",
        readonly=True,
        copy=False,
        index=True,
        tracking=True,
        default="draft",
        help="Draft: prepared, values still editable; nothing has moved or been posted.\n"
        "Done: confirmed by a manager; the units moved and the entries are posted.\n"
        "Cancelled: abandoned before confirmation.",
    )
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    currency_id = fields.Many2one(related="company_id.currency_id")
    line_ids = fields.One2many("rma.disposition.batch.line", "batch_id", string="Units", copy=False)
    note = fields.Text(help="Why these units go where they go; printed on the batch.")

    # ------------------------------------------------------------------
    # Who and when: written by the server
    # ------------------------------------------------------------------
    prepared_by_id = fields.Many2one("res.users", readonly=True, copy=False)
    prepared_date = fields.Datetime(string="Prepared On", readonly=True, copy=False)
    confirmed_by_id = fields.Many2one("res.users", readonly=True, copy=False, tracking=True)
    confirmed_date = fields.Datetime(string="Confirmed On", readonly=True, copy=False)

    # ------------------------------------------------------------------
    # What the confirmation did
    # ------------------------------------------------------------------
    move_ids = fields.Many2many("stock.move", string="Stock Moves", readonly=True, copy=False)
    account_move_ids = fields.Many2many("account.move", string="Journal Entries", readonly=True, copy=False)
    unit_count = fields.Integer(compute="_compute_counts")
    move_count = fields.Integer(compute="_compute_counts")
    account_move_count = fields.Integer(compute="_compute_counts", string="Entry Count")
    account_move_refs = fields.Text(
        string="Journal Entry References",
        compute="_compute_account_move_refs",
        compute_sudo=True,  # printed on the batch for its managers, who need not read accounting
        help="Each entry of the confirmation: its number, journal and date (one a line).",
    )
    repair_count = fields.Integer(compute="_compute_counts")
    total_book_value = fields.Monetary(compute="_compute_totals", currency_field="currency_id")
    total_net_realizable_value = fields.Monetary(compute="_compute_totals", currency_field="currency_id")
    total_work_cost = fields.Monetary(compute="_compute_totals", currency_field="currency_id")
    total_recovery_value = fields.Monetary(
        compute="_compute_totals",
        currency_field="currency_id",
        help="What the dispositions recover (the units' Recovery Value, as the recovery KPI counts it).",
    )
    is_segregation_required = fields.Boolean(related="company_id.rma_disposition_segregation")
    can_be_confirmed = fields.Boolean(compute="_compute_can_be")
    can_be_cancelled = fields.Boolean(compute="_compute_can_be")
    can_be_edited = fields.Boolean(compute="_compute_can_be")

    _name_company_uniq = models.Constraint(
        "UNIQUE(name, company_id)",
        "A disposition batch reference must be unique per company.",
    )

    # ------------------------------------------------------------------
    # Compute
    # ------------------------------------------------------------------
    @api.depends("line_ids", "move_ids", "account_move_ids", "line_ids.unit_id.repair_id")
    def _compute_counts(self):
        for batch in self:
            batch.unit_count = len(batch.line_ids)
            batch.move_count = len(batch.move_ids)
            batch.account_move_count = len(batch.account_move_ids)
            batch.repair_count = len(batch._repairs())

    @api.depends("account_move_ids.name", "account_move_ids.journal_id", "account_move_ids.date")
    def _compute_account_move_refs(self):
        for batch in self:
            batch.account_move_refs = "\n".join(
                f"{entry.name} ({entry.journal_id.name}, {format_date(self.env, entry.date)})"
                for entry in batch.account_move_ids
            )

    @api.depends(
        "line_ids.book_value", "line_ids.net_realizable_value", "line_ids.work_cost", "line_ids.recovered_value"
    )
    def _compute_totals(self):
        for batch in self:
            batch.total_book_value = sum(batch.line_ids.mapped("book_value"))
            batch.total_net_realizable_value = sum(batch.line_ids.mapped("net_realizable_value"))
            batch.total_work_cost = sum(batch.line_ids.mapped("work_cost"))
            batch.total_recovery_value = sum(batch.line_ids.mapped("recovered_value"))

    @api.depends("state", "line_ids", "prepared_by_id", "company_id.rma_disposition_segregation")
    @api.depends_context("uid")
    def _compute_can_be(self):
        is_manager = self.env.user.has_group(MANAGER_GROUP)
        for batch in self:
            batch.can_be_confirmed = is_manager and batch.state == "draft" and bool(batch.line_ids)
            batch.can_be_cancelled = batch.state == "draft"
            # See _ensure_preparer_edits.
            batch.can_be_edited = batch.state == "draft" and (
                not batch.company_id.rma_disposition_segregation
                or not batch.prepared_by_id
                or batch.prepared_by_id == self.env.user
            )

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        self._check_input_shape(vals_list)
        self.check_access("create")  # Returns Inspectors and Managers prepare batches (before a number is drawn)
        ensure_workflow_fields(self, {name for vals in vals_list for name in vals})
        # The number and the preparer are the server's: set after the guards, whatever the client sent.
        now = fields.Datetime.now()
        sequences = self.env["ir.sequence"]
        for vals in vals_list:
            company = self.env["res.company"].browse(vals.get("company_id")) or self.env.company
            vals.update(
                name=sequences.with_company(company).next_by_code(self._name) or self.env._("New"),
                prepared_by_id=self.env.uid,
                prepared_date=now,
            )
        return super().create(vals_list)

    def write(self, vals):
        ensure_workflow_fields(self, vals)
        if not is_server_write(self.env) and set(vals) - {"message_main_attachment_id"}:
            self._ensure_draft()
            self._ensure_preparer_edits()
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_confirmed(self):
        if any(batch.state == "done" for batch in self):
            raise UserError(self.env._("A confirmed disposition batch is a record of what was done: it stays."))

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_confirm(self):
        """Dispose every unit of the batches, all or nothing. The units move to their codes' locations in one batch of
        moves (Odoo posts the book value of those leaving stock), the batch posts the addon's entry (write-downs,
        work cost accruals, recovery income), creates the repair orders, logs the handoffs and moves the units on in
        their state machine."""
        self._ensure_can_be_confirmed()
        lines = self.line_ids
        lines._set_location_accounts()
        lines._write_unit_dispositions()
        moving = lines.filtered(lambda line: line.unit_id.location_id != line.location_dest_id)
        # The moves name their unit (rma_line_id), a link only the server writes: as the manager, a stock user.
        moves = server_create(self.env["stock.move"], moving._prepare_stock_move_vals())
        server_owned(moves).with_context(force_period_date=False)._action_done(cancel_backorder=True)
        lines._record_moves(moves)
        moves_by_batch = self._moves_by_batch(moves)
        self._post_entries(moves_by_batch)
        units = lines.unit_id
        destinations = {line.unit_id: line.location_dest_id for line in lines}
        self.env["rma.custody.event"]._log(
            units, "disposition", destination=destinations, note={line.unit_id: line._custody_note() for line in lines}
        )
        units._set_location(destinations)
        lines.filtered(lambda line: line.treatment == "repair")._create_repair_orders()
        for state, state_units in units.grouped(
            lambda unit: STATE_AFTER_DISPOSITION[unit.disposition_treatment]
        ).items():
            state_units._transition(state)
        # Destroyed, recycled or harvested: the serial must never come back into stock (reactivation block).
        self.env["stock.lot"]._rma_block(
            units.filtered(lambda unit: unit.disposition_treatment in ("salvage", "destroy"))
        )
        self._record_confirmation(moves_by_batch)
        return True

    def action_cancel(self):
        self.check_access("write")  # Returns Inspectors and Managers
        if any(batch.state != "draft" for batch in self):
            raise UserError(self.env._("Only draft disposition batches can be cancelled."))
        server_write(self, {"state": "cancel"})
        return True

    def action_print(self):
        return self.env.ref("rma_recovery.action_report_disposition_batch").report_action(self)

    def action_view_units(self):
        return self.line_ids.unit_id._get_records_action(name=self.env._("Units"))

    def action_view_moves(self):
        return self.move_ids._get_records_action(name=self.env._("Stock Moves"))

    def action_view_account_moves(self):
        return self.account_move_ids._get_records_action(name=self.env._("Journal Entries"))

    def action_view_repairs(self):
        return self._repairs()._get_records_action(name=self.env._("Repair Orders"))

    # ------------------------------------------------------------------
    # Guards
    # ------------------------------------------------------------------
    def _ensure_draft(self):
        decided = self.filtered(lambda batch: batch.state != "draft")
        if decided:
            raise UserError(
                self.env._(
                    "%(batches)s is no longer a draft: its units and values cannot change.",
                    batches=", ".join(decided.mapped("name")),
                )
            )

    def _ensure_preparer_edits(self):
        """Segregation of duties: where the company requires it, a draft batch (its note, its units and their values)
        is edited only by the one who prepared it, so that what the other manager confirms is what the preparer
        prepared. The confirming manager reviews it, then confirms or cancels it; a change goes back to the preparer,
        or into a new batch, which the one who prepares it may not confirm."""
        if is_server_write(self.env):
            return
        for batch in self:
            if batch.company_id.rma_disposition_segregation and batch.prepared_by_id != self.env.user:
                raise UserError(
                    self.env._(
                        "%(batch)s was prepared by %(preparer)s: in %(company)s only they change it before another"
                        " manager confirms it (segregation of duties). Cancel it, or ask them to change it.",
                        batch=batch.name,
                        preparer=batch.prepared_by_id.name,
                        company=batch.company_id.name,
                    )
                )

    def _ensure_can_be_confirmed(self):
        """Everything the confirmation needs is checked before anything is written: rights, segregation of duties,
        each unit's status and code, the amounts the code requires, the accounts of its entries."""
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(self.env._("Only Returns Managers confirm dispositions."))
        self._ensure_draft()
        for batch in self:
            if not batch.line_ids:
                raise UserError(self.env._("Add the units to dispose to %(batch)s.", batch=batch.name))
            if batch.company_id.rma_disposition_segregation and batch.prepared_by_id == self.env.user:
                raise UserError(
                    self.env._(
                        "%(batch)s was prepared by you: in %(company)s another manager confirms it"
                        " (segregation of duties).",
                        batch=batch.name,
                        company=batch.company_id.name,
                    )
                )
        twice = [unit for unit, lines in self.line_ids.grouped("unit_id").items() if len(lines) > 1]
        if twice:
            raise UserError(
                self.env._(
                    "Each unit is disposed once per confirmation: %(units)s appears twice.",
                    units=", ".join(unit.display_name for unit in twice),
                )
            )
        self.line_ids._ensure_can_be_disposed()

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------
    def _prepare_account_move_vals(self):
        """{batch: its entry's values}: the addon's entry of each batch in its company's RMA Dispositions journal (none
        without amounts)."""
        vals_by_batch = {}
        analytic_cache = {}
        for batch in self:
            line_vals = [
                vals for line in batch.line_ids for vals in line._prepare_account_move_line_vals(analytic_cache)
            ]
            if not line_vals:
                continue
            rmas = batch.line_ids.unit_id.rma_id
            vals_by_batch[batch] = {
                "move_type": "entry",
                "journal_id": batch.company_id._get_rma_journal().id,
                "company_id": batch.company_id.id,
                "date": fields.Date.context_today(self),
                "ref": rmas.name if len(rmas) == 1 else batch.name,
                "line_ids": [fields.Command.create(vals) for vals in line_vals],
            }
        return vals_by_batch

    def _moves_by_batch(self, moves):
        """{batch: the moves of its units among ``moves``}."""
        moves_by_batch = {}
        for batch in self:
            unit_ids = set(batch.line_ids.unit_id.ids)  # a set: `in` a recordset scans its ids, for every move
            moves_by_batch[batch] = moves.filtered(lambda move, unit_ids=unit_ids: move.rma_line_id.id in unit_ids)
        return moves_by_batch

    def _post_entries(self, moves_by_batch):
        """Post the batches' entries in the RMA journal and keep them on each batch with Odoo's entries of its moves:
        the one place the batch writes accounting."""
        entry_vals = self._prepare_account_move_vals()
        # sudo: journal entries are the accountants' documents, posted and linked for the manager after the guard
        accounting = self.sudo()
        Move = accounting.env["account.move"]
        entries = Move.with_context(skip_analytic_sync=True).create(list(entry_vals.values()))
        entries.with_context(skip_analytic_sync=False)._post()
        entry_by_batch = dict(zip(entry_vals, entries, strict=True))
        for batch in accounting:
            valued = moves_by_batch[batch].with_env(accounting.env).account_move_id
            batch.account_move_ids = valued | entry_by_batch.get(batch, Move)

    def _record_confirmation(self, moves_by_batch):
        """What the confirmation did, kept on each batch and told in its RMAs' chatter."""
        now = fields.Datetime.now()
        for batch in self:
            # The record of the confirmation: server-owned fields, written after the guard.
            server_write(
                batch,
                {
                    "state": "done",
                    "confirmed_by_id": self.env.uid,
                    "confirmed_date": now,
                    "move_ids": [fields.Command.set(moves_by_batch[batch].ids)],
                },
            )
            for rma, lines in batch.line_ids.grouped(lambda line: line.unit_id.rma_id).items():
                rma.message_post(
                    body=self.env._(
                        "Disposition %(batch)s: %(units)s",
                        batch=batch.name,
                        units=", ".join(f"{line.unit_id.display_name} → {line.disposition_id.code}" for line in lines),
                    )
                )

    def _repairs(self):
        return self.line_ids.unit_id.repair_id


class RmaDispositionBatchLine(models.Model):
    _name = "rma.disposition.batch.line"
    _inherit = ["rma.disposition.values.mixin"]
    _description = "Disposition Batch Unit"
    _order = "batch_id, id"
    _check_company_auto = True

    batch_id = fields.Many2one("rma.disposition.batch", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="batch_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="batch_id.currency_id")
    state = fields.Selection(related="batch_id.state")
    unit_id = fields.Many2one(index=True)
    book_value = fields.Monetary(
        currency_field="currency_id",
        compute="_compute_book_value",
        store=True,
        readonly=True,
        help="Draft: the unit's book value now, the value Odoo gave its receipt (what it is carried at in"
        " quarantine). Done: its value when the batch was confirmed, as Odoo valued its move, kept as recorded.",
    )
    recovered_value = fields.Monetary(
        currency_field="currency_id",
        string="Recovery Value",
        compute="_compute_recovered_value",
        help="What the disposition recovers: RTS the book value, REF/REP the net realizable value less the work"
        " cost, PH/REC the residual recovery value, SD nothing (the rule of the recovery KPI).",
    )
    move_id = fields.Many2one(
        "stock.move", string="Stock Move", compute="_compute_move_id", help="The unit's move made by the confirmation."
    )
    location_dest_id = fields.Many2one(
        "stock.location",
        string="Destination",
        compute="_compute_location_dest_id",
        help="Where the unit goes: its code's location in the unit's warehouse.",
    )

    # Not on unit_id.receipt_value: that chain would search the batch lines at each stock move valued by a receipt
    # (two queries per unit received). A line is added once its unit is received, when that value is known;
    # confirming the batch records the value of the disposition move.
    @api.depends("unit_id")
    def _compute_book_value(self):
        for line in self:
            # A confirmed batch keeps the value its confirmation recorded (_record_confirmation).
            line.book_value = line.book_value if line.state == "done" else line.unit_id.receipt_value

    @api.depends("batch_id.move_ids", "unit_id")
    def _compute_move_id(self):
        for batch, lines in self.grouped("batch_id").items():
            move_by_unit = {move.rma_line_id: move for move in batch.move_ids}
            for line in lines:
                line.move_id = move_by_unit.get(line.unit_id, False)

    @api.depends("disposition_id.destination", "unit_id.rma_id.warehouse_id")
    def _compute_location_dest_id(self):
        for line in self:
            destination = line.disposition_id.destination
            line.location_dest_id = line.unit_id.rma_id.warehouse_id[destination] if destination else False

    @api.depends("disposition_id.treatment", "book_value", "net_realizable_value", "work_cost", "recovery_value")
    def _compute_recovered_value(self):
        for line in self:
            # The same rule as the unit's recovered value, which the recovery KPI reads (rma.kpi.unit).
            line.recovered_value = line.disposition_id._get_recovered_value(
                line.book_value, line.net_realizable_value, line.work_cost, line.recovery_value
            )

    @api.model_create_multi
    def create(self, vals_list):
        self._check_input_shape(vals_list)
        ensure_workflow_fields(self, {name for vals in vals_list for name in vals})
        no_code = [vals for vals in vals_list if not vals.get("disposition_id")]
        if no_code:
            units = self.env["rma.line"].browse([vals.get("unit_id") for vals in no_code if vals.get("unit_id")])
            raise UserError(
                self.env._(
                    "Choose a disposition code for %(units)s.",
                    units=", ".join(units.exists().mapped("display_name")) or self.env._("each unit"),
                )
            )
        self.check_access("create")  # Returns Inspectors and Managers
        if not is_server_write(self.env):
            batches = self.env["rma.disposition.batch"].browse({vals.get("batch_id") for vals in vals_list} - {None})
            batches._ensure_draft()
            batches._ensure_preparer_edits()
        return super().create(vals_list)

    def write(self, vals):
        ensure_workflow_fields(self, vals)
        if not is_server_write(self.env):
            self.batch_id._ensure_draft()
            self.batch_id._ensure_preparer_edits()
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_confirmed(self):
        self.batch_id.filtered(lambda batch: batch.state == "done")._ensure_draft()
        self.batch_id._ensure_preparer_edits()

    # ------------------------------------------------------------------
    # Confirmation, run by the batch (rma.disposition.batch.action_confirm)
    # ------------------------------------------------------------------
    def _ensure_can_be_disposed(self):
        """Each unit can be disposed with its code and values: refused before anything is written."""
        for line in self:
            unit, code = line.unit_id, line.disposition_id
            blocker = unit._disposition_blocker()
            if blocker:
                raise UserError(blocker)
            if code.company_id and code.company_id != unit.company_id:
                raise UserError(
                    self.env._(
                        "Disposition %(code)s belongs to another company than %(unit)s.",
                        code=code.display_name,
                        unit=unit.display_name,
                    )
                )
            if code.treatment in WORK_TREATMENTS and not line.net_realizable_value:
                raise UserError(
                    self.env._(
                        "%(unit)s: enter the net realizable value of the unit once %(treatment)s.",
                        unit=unit.display_name,
                        treatment=self.env._("refurbished")
                        if code.treatment == "refurbish"
                        else self.env._("repaired"),
                    )
                )
            blocker = unit._sanitization_blocker(code)
            if blocker:
                raise UserError(blocker)
            if code.treatment == "repair" and not line.repair_level:
                raise UserError(self.env._("%(unit)s: choose the repair level (L1-L4).", unit=unit.display_name))
            if not line.location_dest_id:
                code._get_destination(unit.rma_id.warehouse_id)  # raises, naming the location to set
        self._check_accounts()

    def _check_accounts(self):
        """Every account a unit's entries need exists, and its destination location posts to the code's account: a
        configuration error is reported before anything is written."""
        account_labels = {
            "location": self.env._("destination account"),
            "writedown": self.env._("returns write-down account"),
            "work_cost": self.env._("refurbishment/repair cost account"),
            "accrued_cost": self.env._("accrued refurbishment/repair costs account"),
            "income": self.env._("recovery income account"),
            "recovery": self.env._("recovery receivable account"),
            "nrv_allowance": self.env._("NRV allowance account"),
            "cost_variance": self.env._("standard cost variance account"),
        }
        for line in self:
            code, product, company = line.disposition_id, line.unit_id.product_id, line.unit_id.company_id
            needed = code._required_accounts(
                line.work_cost, line.recovery_value, standard_cost=product.cost_method == "standard"
            )
            if not needed:
                continue
            accounts = code._get_accounts(product, company)
            missing = [account_labels[name] for name in needed if not accounts[name]]
            if missing:
                raise UserError(
                    self.env._(
                        "Disposition %(code)s has no %(accounts)s in %(company)s: set it on the code"
                        " (Inventory > Configuration > Returns > Dispositions).",
                        code=code.display_name,
                        accounts=", ".join(missing),
                        company=company.name,
                    )
                )
            location_account = line.location_dest_id.valuation_account_id
            if location_account and location_account != accounts["location"]:
                raise UserError(
                    self.env._(
                        "%(location)s posts to %(location_account)s but disposition %(code)s expects %(account)s:"
                        " make them the same.",
                        location=line.location_dest_id.display_name,
                        location_account=location_account.display_name,
                        code=code.display_name,
                        account=accounts["location"].display_name,
                    )
                )

    def _set_location_accounts(self):
        """A location receiving its first disposition posts to the code's account from then on (the perpetual entries
        at each move, the periodic closing's reclassification)."""
        for line in self:
            location = line.location_dest_id
            if location.valuation_account_id or not line.disposition_id._required_accounts(
                line.work_cost, line.recovery_value, standard_cost=line.unit_id.product_id.cost_method == "standard"
            ):
                continue
            accounts = line.disposition_id._get_accounts(line.unit_id.product_id, line.unit_id.company_id)
            location.sudo().valuation_account_id = accounts["location"]  # a stock setting a manager may not write

    def _write_unit_dispositions(self):
        """The decision, recorded on each unit (the fields its later steps and the KPIs read)."""
        now = fields.Datetime.now()
        vals_by_unit = {
            line.unit_id: {
                "disposition_id": line.disposition_id.id,
                "repair_level": line.repair_level if line.treatment == "repair" else False,
                "net_realizable_value": line.net_realizable_value,
                "work_cost": line.work_cost,
                "recovery_value": line.recovery_value,
                "disposition_note": "\n".join(filter(None, [line.note, line.batch_id.note])) or False,
                "disposition_date": now,
                "disposition_user_id": self.env.uid,
                "disposition_batch_id": line.batch_id.id,
                "disposition_valuation": line.unit_id.product_id.valuation,
            }
            for line in self
        }
        server_owned(self.unit_id)._write_each(vals_by_unit)  # server-owned fields, after the batch's guard

    def _prepare_stock_move_vals(self):
        return [line.unit_id._prepare_custody_move_vals(line.location_dest_id) for line in self]

    def _record_moves(self, moves):
        """The book value is what Odoo valued the move out of stock at (the receipt's value for units that stay in
        stock); units in work carry it down to their net realizable value. Kept on the line and on the unit."""
        move_by_unit = {move.rma_line_id: move for move in moves}
        line_ids_by_value = defaultdict(list)
        vals_by_unit = {}
        for line in self:
            move = move_by_unit.get(line.unit_id)
            book_value = move.value if move and line.treatment != "restock" else line.unit_id.receipt_value
            line_ids_by_value[book_value].append(line.id)
            vals_by_unit[line.unit_id] = {"book_value": book_value}
            if line.treatment in WORK_TREATMENTS:
                vals_by_unit[line.unit_id]["carrying_value"] = min(book_value, line.net_realizable_value)
        # The record of the confirmation, server-owned: one write per distinct value.
        for book_value, line_ids in line_ids_by_value.items():
            server_write(self.browse(line_ids), {"book_value": book_value})
        server_owned(self.unit_id)._write_each(vals_by_unit)

    def _prepare_account_move_line_vals(self, analytic_cache=None):
        """The addon's side of the unit's disposition (contract): write-down to the net realizable value and work cost
        accrual (refurbish, repair), recovery income (harvest, recycle). Odoo posts the book value with the move. The
        same lines in perpetual and periodic valuation: none touches a stock valuation account."""
        self.ensure_one()
        unit, code = self.unit_id, self.disposition_id
        accounts = code._get_accounts(unit.product_id, unit.company_id)
        items = self.env["account.move.line"]
        label = items._rma_label(unit, items._rma_disposition_code(unit))
        currency = unit.company_id.currency_id
        vals = []
        if code.treatment in WORK_TREATMENTS:
            writedown = unit.book_value - unit.carrying_value
            if currency.compare_amounts(writedown, 0.0) > 0:
                vals += items._rma_entry_line_vals(
                    unit, accounts["writedown"], accounts["location"], writedown, label, analytic_cache=analytic_cache
                )
            if currency.compare_amounts(unit.work_cost, 0.0) > 0:
                vals += items._rma_entry_line_vals(
                    unit,
                    accounts["work_cost"],
                    accounts["accrued_cost"],
                    unit.work_cost,
                    label,
                    analytic_cache=analytic_cache,
                )
        elif code.treatment == "salvage" and currency.compare_amounts(unit.recovery_value, 0.0) > 0:
            vals += items._rma_entry_line_vals(
                unit,
                accounts["recovery"],
                accounts["income"],
                unit.recovery_value,
                label,
                analytic_cache=analytic_cache,
            )
        return vals

    def _custody_note(self):
        self.ensure_one()
        level = dict(REPAIR_LEVELS).get(self.repair_level) if self.treatment == "repair" else False
        return f"{self.disposition_id.display_name} {level}" if level else self.disposition_id.display_name

    def _create_repair_orders(self):
        """A confirmed repair order per unit to repair: from the Repair WIP location to graded stock."""
        if not self:
            return
        vals_list = []
        for line in self:
            unit = line.unit_id
            warehouse = unit.rma_id.warehouse_id
            if not warehouse.repair_type_id:
                raise UserError(
                    self.env._(
                        "Warehouse %(warehouse)s has no repair operation type.", warehouse=warehouse.display_name
                    )
                )
            vals_list.append(
                {
                    "product_id": unit.product_id.id,
                    "product_uom": unit.product_uom_id.id,
                    "product_qty": unit.quantity_received,
                    "lot_id": unit.lot_id.id,
                    "partner_id": unit.rma_id.partner_id.id,
                    "company_id": unit.company_id.id,
                    "picking_type_id": warehouse.repair_type_id.id,
                    "product_location_src_id": unit.location_id.id,
                    "product_location_dest_id": warehouse.rma_graded_location_id.id,
                    "under_warranty": unit.warranty_state == "in_warranty",
                    "internal_notes": self.env._(
                        "%(rma)s, level %(level)s. %(note)s",
                        rma=unit.rma_id.name,
                        level=dict(REPAIR_LEVELS)[unit.repair_level],
                        note=unit.disposition_note or "",
                    ),
                    "rma_line_id": unit.id,
                }
            )
        # Repair orders link to their unit (server-owned); Returns Managers are stock users, who create repairs.
        repairs = server_create(self.env["repair.order"], vals_list)
        repairs._action_repair_confirm()
        server_owned(self.unit_id)._write_each(
            {unit: {"repair_id": repair.id} for unit, repair in zip(self.unit_id, repairs, strict=True)}
        )
