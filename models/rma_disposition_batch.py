from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import format_date

from .rma_line import STATE_AFTER_DISPOSITION
from .rma_workflow_guard import (
    MANAGER_GROUP,
    ensure_workflow_fields,
    is_server_write,
    server_create,
    server_owned,
    server_write,
)

# Units a background confirmation disposes per committed transaction (rma.disposition.batch._cron_confirm_queued).
CHUNK_SIZE = 100


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
        [("draft", "Draft"), ("queued", "In Progress"), ("done", "Done"), ("cancel", "Cancelled")],
        string="Status",
        readonly=True,
        copy=False,
        index=True,
        tracking=True,
        default="draft",
        help="Draft: prepared, values still editable; nothing has moved or been posted.\n"
        "In Progress: confirmed by a manager, too large to dispose in one request: a background job disposes its"
        " units, a chunk at a time (the progress bar shows how many are done).\n"
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
    can_be_resumed = fields.Boolean(compute="_compute_can_be")

    # ------------------------------------------------------------------
    # Background confirmation (above the company's threshold): written by the server
    # ------------------------------------------------------------------
    job_error = fields.Text(
        string="Background Confirmation Stopped",
        readonly=True,
        copy=False,
        help="Why the background job stopped disposing this batch's units (the units already disposed stay so). Fix"
        " the cause, then Resume.",
    )
    disposed_count = fields.Integer(
        string="Units Disposed", compute="_compute_progress", help="Units of the batch disposed so far."
    )
    progress = fields.Float(compute="_compute_progress", help="Share of the batch's units disposed so far (%).")

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
            # sudo: a count on the batch's form, for managers who need not read accounting (the button is theirs)
            batch.account_move_count = len(batch.sudo().account_move_ids)
            batch.repair_count = len(batch._repairs())

    @api.depends("line_ids.is_disposed")
    def _compute_progress(self):
        for batch in self:
            batch.disposed_count = len(batch.line_ids.filtered("is_disposed"))
            batch.progress = 100.0 * batch.disposed_count / len(batch.line_ids) if batch.line_ids else 0.0

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

    @api.depends("state", "line_ids", "prepared_by_id", "company_id.rma_disposition_segregation", "job_error")
    @api.depends_context("uid")
    def _compute_can_be(self):
        is_manager = self.env.user.has_group(MANAGER_GROUP)
        for batch in self:
            batch.can_be_confirmed = is_manager and batch.state == "draft" and bool(batch.line_ids)
            batch.can_be_cancelled = batch.state == "draft"
            batch.can_be_resumed = is_manager and batch.state == "queued" and bool(batch.job_error)
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
        if any(batch.state in ("queued", "done") for batch in self):
            raise UserError(self.env._("A confirmed disposition batch is a record of what was done: it stays."))

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_confirm(self):
        """Dispose every unit of the batches. A batch of up to the company's threshold of units is disposed now, all or
        nothing: the units move to their codes' locations in one batch of moves (Odoo posts the book value of those
        leaving stock), the batch posts the addon's entry (write-downs, work cost accruals, recovery income), creates
        the repair orders, logs the handoffs and moves the units on in their state machine. A larger one is checked
        the same way now, then disposed by a background job, a committed chunk of units at a time
        (_cron_confirm_queued): the manager gets a notification at once."""
        self._ensure_can_be_confirmed()
        queued = self.filtered(lambda batch: len(batch.line_ids) > batch.company_id.rma_disposition_job_threshold)
        now = self - queued
        if now:
            now._dispose_lines(now.line_ids)
            now._record_confirmation()
        if not queued:
            return True
        # The confirming manager is recorded now: the job disposes the units as them.
        server_write(queued, {"state": "queued", "confirmed_by_id": self.env.uid, "job_error": False})
        queued._trigger_confirmation_job()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "title": self.env._("Confirmation in progress"),
                "message": self.env._(
                    "%(batches)s: its units are disposed in the background; the batch shows how many are done and"
                    " its chatter says when it is finished.",
                    batches=", ".join(queued.mapped("name")),
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def action_resume(self):
        """Resume the background confirmation stopped by an error, once its cause is fixed."""
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(self.env._("Only Returns Managers confirm dispositions."))
        stopped = self.filtered(lambda batch: batch.state == "queued" and batch.job_error)
        if stopped != self:
            raise UserError(self.env._("Only a background confirmation that stopped on an error is resumed."))
        stopped.line_ids.filtered(lambda line: not line.is_disposed)._ensure_can_be_disposed()
        server_write(stopped, {"job_error": False})
        stopped._trigger_confirmation_job()
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
    def _dispose_lines(self, lines):
        """Dispose ``lines`` (units of these batches, all of them or a chunk), all or nothing: the same steps whether
        the batch is confirmed in the request or by the background job, the lines recorded as disposed with them."""
        lines._set_location_accounts()
        lines._write_unit_dispositions()
        moving = lines.filtered(lambda line: line.unit_id.location_id != line.location_dest_id)
        # The moves name their unit (rma_line_id), a link only the server writes: as the manager, a stock user.
        moves = server_create(self.env["stock.move"], moving._prepare_stock_move_vals())
        server_owned(moves).with_context(force_period_date=False)._action_done(cancel_backorder=True)
        lines._record_moves(moves)
        moves_by_batch = self._moves_by_batch(moves, lines)
        self._post_entries(moves_by_batch, lines)
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
        server_write(lines, {"is_disposed": True})
        for batch in self:
            # The record of the confirmation: server-owned fields, written after the guard.
            server_write(batch, {"move_ids": [fields.Command.link(move.id) for move in moves_by_batch[batch]]})
            batch_lines = lines.filtered(lambda line, batch=batch: line.batch_id == batch)
            for rma, rma_lines in batch_lines.grouped(lambda line: line.unit_id.rma_id).items():
                rma.message_post(
                    body=self.env._(
                        "Disposition %(batch)s: %(units)s",
                        batch=batch.name,
                        units=", ".join(
                            f"{line.unit_id.display_name} → {line.disposition_id.code}" for line in rma_lines
                        ),
                    )
                )

    def _prepare_account_move_vals(self, lines):
        """{batch: its entry's values}: the addon's entry of each batch for its ``lines`` in its company's RMA
        Dispositions journal (none without amounts)."""
        vals_by_batch = {}
        analytic_cache = {}
        for batch in self:
            batch_lines = lines.filtered(lambda line, batch=batch: line.batch_id == batch)
            line_vals = [vals for line in batch_lines for vals in line._prepare_account_move_line_vals(analytic_cache)]
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

    def _moves_by_batch(self, moves, lines):
        """{batch: the moves of its ``lines``' units among ``moves``}."""
        moves_by_batch = {}
        for batch in self:
            # a set: `in` a recordset scans its ids, for every move
            unit_ids = {line.unit_id.id for line in lines if line.batch_id == batch}
            moves_by_batch[batch] = moves.filtered(lambda move, unit_ids=unit_ids: move.rma_line_id.id in unit_ids)
        return moves_by_batch

    def _post_entries(self, moves_by_batch, lines):
        """Post the batches' entries for ``lines`` in the RMA journal and add them to each batch with Odoo's entries of
        its moves: the one place the batch writes accounting."""
        entry_vals = self._prepare_account_move_vals(lines)
        # sudo: journal entries are the accountants' documents, posted and linked for the manager after the guard
        accounting = self.sudo()
        Move = accounting.env["account.move"]
        entries = Move.with_context(skip_analytic_sync=True).create(list(entry_vals.values()))
        entries.with_context(skip_analytic_sync=False)._post()
        entry_by_batch = dict(zip(entry_vals, entries, strict=True))
        for batch in accounting:
            valued = moves_by_batch[batch].with_env(accounting.env).account_move_id
            batch.account_move_ids |= valued | entry_by_batch.get(batch, Move)

    def _record_confirmation(self):
        """The batches are done: who confirmed them and when, kept on each batch."""
        vals = {"state": "done", "confirmed_date": fields.Datetime.now()}
        # The record of the confirmation: server-owned fields, written after the guard. The background job keeps the
        # manager who confirmed the batch.
        server_write(self.filtered("confirmed_by_id"), vals)
        server_write(self.filtered(lambda batch: not batch.confirmed_by_id), {**vals, "confirmed_by_id": self.env.uid})

    # ------------------------------------------------------------------
    # Background confirmation
    # ------------------------------------------------------------------
    def _trigger_confirmation_job(self):
        self.env.ref("rma_recovery.rma_cron_disposition_batch_confirm")._trigger()

    @api.model
    def _cron_confirm_queued(self, chunk_size=None):
        """Dispose the units of the batches in progress, oldest batch first, ``chunk_size`` units per transaction. Run
        by the cron, it commits each chunk and reports its progress (the cron runs it again while units remain; a
        chunk that crashes is rolled back whole, its units disposed at the next run). Called from code, it disposes
        them all in the caller's transaction. A chunk refused by a guard (a unit's state changed since the
        confirmation, a setting missing) stops that batch: the error is kept on it for its managers, who resume it."""
        chunk_size = chunk_size or CHUNK_SIZE
        by_cron = self.env.context.get("ir_cron_progress_id")
        busy = self.browse()  # locked by another transaction (a run of the job on another server): the next run's
        pending_domain = [("state", "=", "queued"), ("job_error", "=", False)]
        while batch := self.search([*pending_domain, ("id", "not in", busy.ids)], order="id", limit=1):
            if not batch.try_lock_for_update():
                busy |= batch
                continue
            processed = batch._confirm_chunk(chunk_size)
            if by_cron:
                remaining = self.env["rma.disposition.batch.line"].search_count(
                    [("batch_id.state", "=", "queued"), ("batch_id.job_error", "=", False), ("is_disposed", "=", False)]
                )
                if not self.env["ir.cron"]._commit_progress(processed, remaining=remaining):
                    return

    def _confirm_chunk(self, chunk_size):
        """Dispose the next ``chunk_size`` units of this batch not yet disposed, as the manager who confirmed it and
        behind the same guards as a confirmation in the request; the batch is done after its last chunk. Returns the
        number of units disposed."""
        self.ensure_one()
        batch = self.with_user(self.confirmed_by_id).with_company(self.company_id)
        lines = batch.line_ids.filtered(lambda line: not line.is_disposed)[:chunk_size]
        try:
            with self.env.cr.savepoint():
                if not batch.env.user.has_group(MANAGER_GROUP):
                    raise AccessError(self.env._("Only Returns Managers confirm dispositions."))
                lines.unit_id._lock_units()
                lines._ensure_can_be_disposed()
                batch._dispose_lines(lines)
                if all(batch.line_ids.mapped("is_disposed")):
                    batch._record_confirmation()
                    batch.message_post(
                        body=self.env._(
                            "Confirmation finished: %(units)s units disposed, %(moves)s stock moves, %(entries)s"
                            " journal entries.",
                            units=len(self.line_ids),
                            moves=len(self.move_ids),
                            entries=len(self.account_move_ids),
                        )
                    )
        except UserError as error:  # a guard's refusal (AccessError, ValidationError included): the managers fix it
            server_write(self, {"job_error": str(error)})
            self.message_post(
                body=self.env._(
                    "Confirmation stopped after %(done)s of %(total)s units: %(error)s",
                    done=self.disposed_count,
                    total=len(self.line_ids),
                    error=str(error),
                )
            )
            return 0
        return len(lines)

    def _repairs(self):
        return self.line_ids.unit_id.repair_id
