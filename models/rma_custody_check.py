from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL, format_datetime

from .rma_workflow_guard import MANAGER_GROUP

# Units whose custody chains the background check verifies per committed transaction (rma.custody.check._cron_run).
CHUNK_SIZE = 5000


class RmaCustodyCheck(models.Model):
    """A full integrity check of a company's chains of custody and seals, run by a background job: requested by a
    Returns Manager, it recomputes the units' chains a chunk of units at a time (committed, resumable after a crash),
    then the company's seals, and keeps the result (ok, or the first broken unit, event or seal, and the events
    checked) for the manager to open. Written by the server only."""

    _name = "rma.custody.check"
    _description = "Custody Integrity Check"
    _inherit = "rma.background.job"
    _order = "id desc"
    _rec_name = "requested_date"
    _check_company_auto = True

    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    state = fields.Selection(
        [("queued", "In Progress"), ("done", "Done")],
        string="Status",
        readonly=True,
        copy=False,
        index=True,
        default="queued",
        help="In Progress: the background job is recomputing the chains (the progress bar shows how many units are"
        " done).\nDone: the result below is final.",
    )
    requested_by_id = fields.Many2one("res.users", readonly=True)
    requested_date = fields.Datetime(string="Requested On", readonly=True)
    done_date = fields.Datetime(string="Finished On", readonly=True)
    unit_total = fields.Integer(string="Units to Check", readonly=True)
    unit_done = fields.Integer(string="Units Checked", readonly=True)
    last_line_id = fields.Integer(readonly=True, help="The last unit (id) checked: the job resumes after it.")
    progress = fields.Float(compute="_compute_progress")
    event_count = fields.Integer(string="Events Checked", readonly=True)
    chain_count = fields.Integer(string="Chains Checked", readonly=True)
    is_ok = fields.Boolean(string="Intact", readonly=True)
    broken_line_id = fields.Many2one("rma.line", string="First Broken Unit", readonly=True)
    broken_event_id = fields.Integer(string="First Broken Event", readonly=True)
    broken_seal_id = fields.Many2one("rma.custody.seal", readonly=True)
    message = fields.Text(readonly=True, help="What the check found broken (units, events and seals by id).")

    @api.depends("company_id", "requested_date")
    @api.depends_context("tz")
    def _compute_display_name(self):
        # "Custody Check, My Company, Dec 5, 3:09 PM": the date in the user's time zone, not the stored UTC value.
        for check in self:
            check.display_name = self.env._(
                "Custody Check, %(company)s, %(date)s",
                company=check.company_id.name or "",
                date=format_datetime(self.env, check.requested_date, tz=self.env.tz.zone, dt_format="short")
                if check.requested_date
                else "",
            )

    @api.depends("unit_done", "unit_total", "state")
    def _compute_progress(self):
        for check in self:
            if check.state == "done":
                check.progress = 100.0
            else:
                check.progress = 100.0 * check.unit_done / check.unit_total if check.unit_total else 0.0

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    @api.model
    def action_check_company(self):
        """Start a full check of the current company's chains of custody in the background and open it."""
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(self.env._("Only a Returns Manager checks the chains of custody."))
        company = self.env.company
        check = self.search([("company_id", "=", company.id), ("state", "=", "queued")], limit=1)
        if not check:
            self.env.cr.execute(SQL("SELECT count(*) FROM rma_line WHERE company_id = %s", company.id))
            # sudo: the check is the server's record (read-only to everyone, like the seals), created after the check
            check = (
                self.sudo()
                .create(
                    {
                        "company_id": company.id,
                        "requested_by_id": self.env.uid,
                        "requested_date": fields.Datetime.now(),
                        "unit_total": self.env.cr.fetchone()[0],
                    }
                )
                .sudo(False)
            )
            self.env.ref("rma_recovery.rma_cron_custody_check")._trigger()
        return check._get_records_action(name=self.env._("Custody Integrity Check"))

    # ------------------------------------------------------------------
    # The job
    # ------------------------------------------------------------------
    def _job_chunk_size(self):
        return CHUNK_SIZE

    def _run_chunk(self, chunk_size):
        """Check the chains of the next ``chunk_size`` units of the company (by id), or, after the last unit, its
        seals; record the result. Returns the number of units checked."""
        self.ensure_one()
        self.env.cr.execute(
            SQL(
                "SELECT max(id), count(*) FROM (SELECT id FROM rma_line WHERE company_id = %s AND id > %s"
                " ORDER BY id LIMIT %s) AS chunk",
                self.company_id.id,
                self.last_line_id,
                chunk_size,
            )
        )
        upto, count = self.env.cr.fetchone()
        Event = self.env["rma.custody.event"]
        if not upto:
            problem = self.env["rma.custody.seal"]._check_seals(self.company_id)
            vals = {"state": "done", "done_date": fields.Datetime.now(), "is_ok": not problem}
            if problem:
                seal_id, line_id, message = problem
                vals.update(
                    broken_seal_id=self.env["rma.custody.seal"].browse(seal_id).exists().id,
                    broken_line_id=self.env["rma.line"].browse(line_id or []).exists().id,
                    message=message,
                )
            self.write(vals)
            return 0
        result = Event._check_integrity(
            self.company_id, after_line_id=self.last_line_id, upto_line_id=upto, seals=False
        )
        vals = {
            "last_line_id": upto,
            "unit_done": self.unit_done + count,
            "event_count": self.event_count + result["event_count"],
            "chain_count": self.chain_count + result["chain_count"],
        }
        if not result["ok"]:
            vals.update(
                state="done",
                done_date=fields.Datetime.now(),
                is_ok=False,
                broken_line_id=self.env["rma.line"].browse(result["broken_line_id"] or []).exists().id,
                broken_event_id=result["broken_event_id"],
                message=result["message"],
            )
        self.write(vals)
        return count
