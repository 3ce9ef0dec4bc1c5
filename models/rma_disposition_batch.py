from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from .rma_inspection import INSPECTOR_GROUP
from .rma_order import MANAGER_GROUP
from .rma_workflow_guard import ensure_workflow_fields


class RmaDispositionBatch(models.Model):
    """A disposition decision with its money: the units, their codes and values, who prepared it and who
    confirmed it. Confirming it disposes every unit at once, all or nothing (rma.line._action_dispose)."""

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
        self._ensure_can_prepare()
        ensure_workflow_fields(self, {name for vals in vals_list for name in vals})
        # The number and the preparer are the server's: set after the guards, whatever the client sent.
        now = fields.Datetime.now()
        sequences = self.env["ir.sequence"].sudo()
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
        if not self.env.su and set(vals) - {"message_main_attachment_id"}:
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
        """Dispose every unit of the batch, all or nothing: one batch of moves, one Odoo valuation entry and one
        addon entry per company, repair orders for REP, custody events."""
        self._ensure_can_be_confirmed()
        for batch in self:
            with self.env.cr.savepoint():
                batch.line_ids.unit_id._action_dispose(batch._disposition_values(), batch=batch)
        return True

    def action_cancel(self):
        self._ensure_can_prepare()
        if any(batch.state != "draft" for batch in self):
            raise UserError(self.env._("Only draft disposition batches can be cancelled."))
        self.sudo().state = "cancel"
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
    def _ensure_can_prepare(self):
        if not self.env.su and not self.env.user.has_group(INSPECTOR_GROUP):
            raise AccessError(self.env._("Only Returns Inspectors and Managers prepare disposition batches."))

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
        if self.env.su:
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

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------
    def _disposition_values(self):
        """{unit id: its values} as rma.line._action_dispose takes them, the batch's note added to each."""
        self.ensure_one()
        return self.line_ids._disposition_values(note=self.note)

    @api.model
    def _create_for_units(self, units, values, note=False):
        """A draft batch of ``units`` with ``values`` ({unit id: values}, as _disposition_values gives them)."""
        return self.create(
            {
                "company_id": units.company_id[:1].id or self.env.company.id,
                "note": note,
                "line_ids": [
                    fields.Command.create(
                        {
                            "unit_id": unit.id,
                            "disposition_id": values[unit.id].get("disposition_id"),
                            "repair_level": values[unit.id].get("repair_level") or False,
                            "net_realizable_value": values[unit.id].get("net_realizable_value") or 0.0,
                            "work_cost": values[unit.id].get("work_cost") or 0.0,
                            "recovery_value": values[unit.id].get("recovery_value") or 0.0,
                            "note": values[unit.id].get("note") or False,
                        }
                    )
                    for unit in units
                ],
            }
        )

    def _record_confirmation(self, moves, entries):
        """What the confirmation did, kept on the batch (called by rma.line._action_dispose)."""
        self.ensure_one()
        move_by_unit = {move.rma_line_id: move for move in moves}
        batch = self.sudo()
        for line in batch.line_ids:
            line.write({"book_value": line.unit_id.book_value, "move_id": move_by_unit.get(line.unit_id, False)})
        batch.write(
            {
                "state": "done",
                "confirmed_by_id": self.env.uid,
                "confirmed_date": fields.Datetime.now(),
                "move_ids": [fields.Command.set(moves.ids)],
                "account_move_ids": [fields.Command.set((moves.account_move_id | entries).ids)],
            }
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
    move_id = fields.Many2one("stock.move", string="Stock Move", readonly=True)

    # Not on unit_id.receipt_value: that chain would search the batch lines at each stock move valued by a receipt
    # (two queries per unit received). A line is added once its unit is received, when that value is known;
    # confirming the batch records the value of the disposition move.
    @api.depends("unit_id")
    def _compute_book_value(self):
        for line in self:
            # A confirmed batch keeps the value its confirmation recorded (_record_confirmation).
            line.book_value = line.book_value if line.state == "done" else line.unit_id.receipt_value

    @api.depends("disposition_id.treatment", "book_value", "net_realizable_value", "work_cost", "recovery_value")
    def _compute_recovered_value(self):
        for line in self:
            # The same rule as the unit's recovered value, which the recovery KPI reads (rma.kpi.unit).
            line.recovered_value = line.disposition_id._get_recovered_value(
                line.book_value, line.net_realizable_value, line.work_cost, line.recovery_value
            )

    @api.model_create_multi
    def create(self, vals_list):
        ensure_workflow_fields(self, {name for vals in vals_list for name in vals})
        if not self.env.su:
            self.env["rma.disposition.batch"]._ensure_can_prepare()
            batches = self.env["rma.disposition.batch"].browse({vals.get("batch_id") for vals in vals_list} - {None})
            batches._ensure_draft()
            batches._ensure_preparer_edits()
        return super().create(vals_list)

    def write(self, vals):
        ensure_workflow_fields(self, vals)
        if not self.env.su:
            self.batch_id._ensure_draft()
            self.batch_id._ensure_preparer_edits()
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_confirmed(self):
        self.batch_id.filtered(lambda batch: batch.state == "done")._ensure_draft()
        self.batch_id._ensure_preparer_edits()
