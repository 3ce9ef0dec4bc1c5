from datetime import datetime, time, timedelta

import pytz

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL, format_date

from .rma_workflow_guard import MANAGER_GROUP, ensure_workflow_fields, is_server_write, server_write

# Units whose whole custody chains the background export writes per committed transaction (_cron_run).
CHUNK_SIZE = 5000
# Consecutive failed runs of a chunk after which the export stops as Failed (Odoo retries the cron meanwhile).
MAX_ATTEMPTS = 3
PART_PREFIX = "part-"


class RmaCustodyExport(models.Model):
    """The chains of custody of a company's units that have an event in a period, as one JSON Lines file for the
    standalone verifier (tools/verify_custody.py), built by a background job: a Returns Manager sets the period and
    starts it; the job writes the chains of a chunk of units per committed transaction into a part file attached to
    the export (resumable after a kill, without a line twice), then assembles the header, the parts and the company's
    seals into one attachment and deletes the parts."""

    _name = "rma.custody.export"
    _description = "Custody Export"
    _inherit = "rma.background.job"
    _order = "id desc"
    _check_company_auto = True

    # ------------------------------------------------------------------
    # Fields: the request
    # ------------------------------------------------------------------
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    date_from = fields.Date(
        string="From", required=True, default=lambda self: fields.Date.context_today(self).replace(day=1)
    )
    date_to = fields.Date(
        string="To",
        required=True,
        default=fields.Date.context_today,
        help="The units with a custody event on these days (in the time zone of the manager who starts the export)"
        " are exported with their whole chains.",
    )
    state = fields.Selection(
        [("draft", "Draft"), ("queued", "In Progress"), ("done", "Done"), ("failed", "Failed")],
        string="Status",
        readonly=True,
        copy=False,
        index=True,
        default="draft",
        help="Draft: the period can still be changed.\nIn Progress: the background job is writing the chains (the"
        " progress bar shows how many units are done).\nDone: the file is ready to download.\nFailed: the job failed"
        " repeatedly on the same units; the message says why.",
    )
    # ------------------------------------------------------------------
    # Fields: recorded by the server
    # ------------------------------------------------------------------
    requested_by_id = fields.Many2one("res.users", readonly=True, copy=False)
    requested_date = fields.Datetime(string="Requested On", readonly=True, copy=False)
    done_date = fields.Datetime(string="Finished On", readonly=True, copy=False)
    period_start = fields.Datetime(readonly=True, copy=False, help="The period's first instant (UTC).")
    period_end = fields.Datetime(readonly=True, copy=False, help="The instant after the period (UTC).")
    last_event_id = fields.Integer(
        readonly=True,
        copy=False,
        help="The newest custody event when the export started: the chains are exported as they were then.",
    )
    unit_total = fields.Integer(string="Units to Export", readonly=True, copy=False)
    unit_done = fields.Integer(string="Units Exported", readonly=True, copy=False)
    event_count = fields.Integer(string="Events Exported", readonly=True, copy=False)
    part_count = fields.Integer(readonly=True, copy=False, help="The part files written so far.")
    last_line_id = fields.Integer(
        readonly=True, copy=False, help="The last unit (id) exported: the job resumes after it."
    )
    failure_count = fields.Integer(readonly=True, copy=False, help="Consecutive failed runs of the current chunk.")
    progress = fields.Float(compute="_compute_progress")
    attachment_id = fields.Many2one("ir.attachment", string="File", readonly=True, copy=False)
    message = fields.Text(readonly=True, copy=False)

    # ------------------------------------------------------------------
    # Compute and constraints
    # ------------------------------------------------------------------
    @api.depends("company_id", "date_from", "date_to")
    @api.depends_context("lang")
    def _compute_display_name(self):
        for export in self:
            export.display_name = self.env._(
                "Custody Export, %(company)s, %(date_from)s - %(date_to)s",
                company=export.company_id.name or "",
                date_from=format_date(self.env, export.date_from) if export.date_from else "",
                date_to=format_date(self.env, export.date_to) if export.date_to else "",
            )

    @api.depends("unit_done", "unit_total", "state")
    def _compute_progress(self):
        for export in self:
            if export.state == "done":
                export.progress = 100.0
            else:
                total = export.unit_total
                export.progress = min(100.0 * export.unit_done / total, 100.0) if total else 0.0

    @api.constrains("date_from", "date_to")
    def _check_period(self):
        for export in self:
            if export.date_from > export.date_to:
                raise ValidationError(self.env._("The period of a custody export ends on or after its first day."))

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        ensure_workflow_fields(self, {name for vals in vals_list for name in vals})
        return super().create(vals_list)

    def write(self, vals):
        ensure_workflow_fields(self, vals)
        if not is_server_write(self.env) and any(export.state != "draft" for export in self):
            raise UserError(self.env._("A custody export keeps its period once started."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_queued(self):
        if any(export.state == "queued" for export in self):
            raise UserError(self.env._("A custody export in progress cannot be deleted: wait for it to finish."))

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_start(self):
        """Queue the exports and wake the job; a period without any custody event is done at once, without a file."""
        self._ensure_can_be_started()
        self.env["rma.custody.event"].flush_model()
        now = fields.Datetime.now()
        tz = self.env.tz
        # A chain's later events have higher ids (its unit is locked while one is added): events up to this one are
        # whole prefixes of their chains, the state of the chains when the export starts.
        self.env.cr.execute(SQL("SELECT COALESCE(max(id), 0) FROM rma_custody_event"))
        last_event_id = self.env.cr.fetchone()[0]
        bounds = {
            export.id: tuple(
                tz.localize(datetime.combine(day, time.min)).astimezone(pytz.utc).replace(tzinfo=None)
                for day in (export.date_from, export.date_to + timedelta(days=1))
            )
            for export in self
        }
        # The units with an event in each period, in one query for all the exports.
        self.env.cr.execute(
            SQL(
                "SELECT period.id, count(DISTINCT event.line_id)"
                " FROM (VALUES %s) AS period(id, company_id, start, stop)"
                " LEFT JOIN rma_custody_event event ON event.company_id = period.company_id"
                " AND event.event_date >= period.start AND event.event_date < period.stop AND event.id <= %s"
                " GROUP BY period.id",
                SQL(", ").join(
                    SQL("(%s, %s, %s::timestamp, %s::timestamp)", export.id, export.company_id.id, *bounds[export.id])
                    for export in self
                ),
                last_event_id,
            )
        )
        totals = dict(self.env.cr.fetchall())
        for export in self:
            start, end = bounds[export.id]
            vals = {
                "state": "queued",
                "requested_by_id": self.env.uid,
                "requested_date": now,
                "period_start": start,
                "period_end": end,
                "last_event_id": last_event_id,
                "unit_total": totals[export.id],
            }
            if not vals["unit_total"]:
                vals.update(
                    state="done",
                    done_date=now,
                    message=self.env._("No custody event was recorded in this period: there is nothing to export."),
                )
            server_write(export, vals)
        if self.filtered(lambda export: export.state == "queued"):
            self.env.ref("rma_recovery.rma_cron_custody_export")._trigger()
        return True

    def action_download(self):
        self.ensure_one()
        if not self.attachment_id:
            raise UserError(self.env._("This custody export has no file (yet)."))
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self.attachment_id.id}?download=true",
            "target": "download",
        }

    # ------------------------------------------------------------------
    # Guards
    # ------------------------------------------------------------------
    def _ensure_can_be_started(self):
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(self.env._("Only a Returns Manager exports the chains of custody."))
        self.check_access("write")
        for export in self:
            if export.state != "draft":
                raise UserError(self.env._("%(export)s was already started.", export=export.display_name))

    # ------------------------------------------------------------------
    # The job
    # ------------------------------------------------------------------
    def _job_chunk_size(self):
        return CHUNK_SIZE

    def _record_failure(self, error):
        """Kept, so that a chunk failing MAX_ATTEMPTS runs in a row stops the export as Failed."""
        self.ensure_one()
        attempts = self.failure_count + 1
        vals = {"failure_count": attempts, "message": str(error)}
        if attempts >= MAX_ATTEMPTS:
            vals.update(
                state="failed",
                done_date=fields.Datetime.now(),
                message=self.env._(
                    "The export failed %(count)s times after %(done)s of %(total)s units: %(error)s",
                    count=attempts,
                    done=self.unit_done,
                    total=self.unit_total,
                    error=error,
                ),
            )
        self.sudo().write(vals)  # sudo: the server records the job's failure
        return True

    def _run_chunk(self, chunk_size):
        """Write the whole chains of the next ``chunk_size`` units with an event in the period (by id) into a part
        file, or, after the last unit, assemble the file. Returns the number of units exported."""
        self.ensure_one()
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "SELECT DISTINCT line_id FROM rma_custody_event WHERE company_id = %s AND event_date >= %s"
                " AND event_date < %s AND id <= %s AND line_id > %s ORDER BY line_id LIMIT %s",
                self.company_id.id,
                self.period_start,
                self.period_end,
                self.last_event_id,
                self.last_line_id,
                chunk_size,
            )
        )
        line_ids = [line_id for (line_id,) in self.env.cr.fetchall()]
        if not line_ids:
            self._assemble()
            return 0
        Event = self.env["rma.custody.event"]
        lines = list(Event._export_event_lines(SQL("line_id = ANY(%s) AND id <= %s", line_ids, self.last_event_id)))
        self.env["ir.attachment"].create(
            {
                "name": f"{PART_PREFIX}{self.part_count + 1:06d}.jsonl",
                "raw": Event._export_text(lines).encode(),
                "mimetype": "application/jsonl",
                "res_model": self._name,
                "res_id": self.id,
            }
        )
        self.write(
            {
                "last_line_id": line_ids[-1],
                "unit_done": self.unit_done + len(line_ids),
                "event_count": self.event_count + len(lines),
                "part_count": self.part_count + 1,
                "failure_count": 0,
            }
        )
        return len(line_ids)

    def _part_attachments(self):
        return self.env["ir.attachment"].search(
            [
                ("res_model", "=", self._name),
                ("res_id", "=", self.id),
                ("name", "=like", f"{PART_PREFIX}%"),
            ],
            order="name, id",
        )

    def _assemble(self):
        """The file: the header, the parts in order and the company's seals, in one attachment; the parts go."""
        Event = self.env["rma.custody.event"]
        parts = self._part_attachments()
        header = Event._export_text([Event._export_header()]).encode()
        seals = Event._export_text(Event._export_seal_lines(self.company_id)).encode()
        attachment = self.env["ir.attachment"].create(
            {
                "name": f"custody-{self.company_id.id}-{self.date_from:%Y%m%d}-{self.date_to:%Y%m%d}.jsonl",
                "raw": b"".join([header, *(part.raw for part in parts), seals]),
                "mimetype": "application/jsonl",
                "res_model": self._name,
                "res_id": self.id,
            }
        )
        parts.unlink()
        self.write(
            {
                "state": "done",
                "done_date": fields.Datetime.now(),
                "attachment_id": attachment.id,
                "unit_total": self.unit_done,
                "failure_count": 0,
                "message": False,
            }
        )
