from odoo import api, models


class RmaBackgroundJob(models.AbstractModel):
    """What the company-wide custody jobs share (rma.custody.check, rma.custody.export): queued records a cron works
    through, oldest first, a chunk of units per transaction, with Odoo's _commit_progress. Run by the cron, each chunk
    is committed with its progress (a crash resumes after the last unit committed); called from code, everything runs
    in the caller's transaction."""

    _name = "rma.background.job"
    _description = "Returns Background Job"

    def _job_chunk_size(self):
        """Units per committed transaction."""
        raise NotImplementedError

    def _run_chunk(self, chunk_size):
        """Process the next ``chunk_size`` units of this job and record its progress; returns how many."""
        raise NotImplementedError

    def _record_failure(self, error):
        """A chunk failed in the cron: True when this job records it. The record is committed before the error is
        raised again, so that a job that always fails ends instead of failing the cron until Odoo deactivates it."""
        return False

    @api.model
    def _cron_run(self, chunk_size=None):
        chunk_size = chunk_size or self._job_chunk_size()
        by_cron = self.env.context.get("ir_cron_progress_id")  # private method: no client calls it with this key
        busy = self.browse()
        while job := self.search([("state", "=", "queued"), ("id", "not in", busy.ids)], order="id", limit=1):
            if not job.try_lock_for_update():
                busy |= job
                continue
            try:
                # sudo: the job is the server's; it reads every chain of the company, raw, and writes its own record
                processed = job.sudo()._run_chunk(chunk_size)
            except Exception as error:
                if not by_cron:
                    raise
                self.env.cr.rollback()  # the chunk is undone
                if job._record_failure(error):
                    self.env["ir.cron"]._commit_progress(0)  # commits the failure, no progress
                raise
            if by_cron:
                remaining = sum(
                    max(queued.unit_total - queued.unit_done, 0) for queued in self.search([("state", "=", "queued")])
                )
                if not self.env["ir.cron"]._commit_progress(processed, remaining=remaining):
                    return
