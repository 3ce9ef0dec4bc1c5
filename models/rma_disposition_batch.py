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
