import logging

from odoo import api, fields, models

from .rma_order_notify import NOTIFY_TEMPLATES

_logger = logging.getLogger(__name__)

# Rows (one RMA's mail for one step each) sent per commit when the job runs: a crash leaves the rest pending.
BATCH_SIZE = 50


class RmaOrderNotification(models.Model):
    """A customer's mail waiting to be sent: one row per RMA and step, queued by rma.order._rma_notify in the step's
    transaction and sent by the job *Returns: send the customers' mails* (``_cron_send``), so that the step's user
    does not wait for the mails (the authorization's attaches the label PDF). Written by the server only."""

    _name = "rma.order.notification"
    _description = "Customer Mail to Send for an RMA"
    _order = "id"

    rma_id = fields.Many2one("rma.order", string="RMA", required=True, ondelete="cascade", index=True)
    step = fields.Selection(  # the keys of NOTIFY_TEMPLATES
        [
            ("authorized", "Authorized"),
            ("received", "Received"),
            ("inspected", "Inspection Done"),
            ("remedy_done", "Remedy Done"),
            ("closed", "Closed"),
            ("rejected", "Rejected"),
        ],
        required=True,
    )
    company_id = fields.Many2one(related="rma_id.company_id", store=True, index=True)

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------
    @api.model
    def _queue(self, rmas, step):
        """Queue the ``step`` mail of ``rmas`` (rma.order) and wake the job, unless it is already pending for an RMA:
        one mail per RMA and step. A pending row the job is sending now (locked by it) does not count: its mail may
        have been rendered before this step's units reached it."""
        pending = self.search([("rma_id", "in", rmas.ids), ("step", "=", step)]).try_lock_for_update()
        new_rmas = rmas - pending.rma_id
        if not new_rmas:
            return self.browse()
        rows = self.create([{"rma_id": rma.id, "step": step} for rma in new_rmas])
        self.env.ref("rma_recovery.rma_cron_notify")._trigger()
        return rows

    @api.model
    def _cron_send(self, batch_size=None):
        """Send the pending mails, oldest first. Run by the cron, it commits after each batch of ``batch_size`` rows
        and reports its progress (the cron runs it again while rows remain); called from code, it sends them all in
        the caller's transaction. Rows locked by another transaction (being queued or sent) wait for the next run."""
        batch_size = batch_size or BATCH_SIZE
        by_cron = self.env.context.get("ir_cron_progress_id")
        left = self.browse()  # locked elsewhere, or failed: not retried in this run
        while rows := self.search([("id", "not in", left.ids)], limit=batch_size):
            locked = rows.try_lock_for_update()
            failed = locked._send_batch()
            left |= (rows - locked) | failed
            if by_cron:  # run by the cron: commit what is sent, show progress
                remaining = self.search_count([("id", "not in", left.ids)])
                if not self.env["ir.cron"]._commit_progress(len(locked - failed), remaining=remaining):
                    return

    def _send_batch(self):
        """Send these rows' mails; when the batch fails, RMA by RMA, so that one RMA whose mail cannot be rendered
        does not hold back the others. Returns the rows left pending (logged; retried at the next run)."""
        try:
            with self.env.cr.savepoint():
                self._send()
            return self.browse()
        except Exception:  # retried RMA by RMA below, each failure logged with its traceback
            _logger.warning("Returns: a batch of customer mails failed; retrying it RMA by RMA", exc_info=True)
        failed = self.browse()
        for rma_rows in self.exists().grouped("rma_id").values():
            try:
                with self.env.cr.savepoint():
                    rma_rows._send()
            except Exception:  # one customer's mail must not block the others'
                _logger.exception(
                    "Returns: the customer's mail of %s could not be sent; it is retried at the next run",
                    rma_rows.rma_id.display_name,
                )
                failed |= rma_rows
        return failed

    def _send(self):
        """Post one mail per RMA and step of these rows in the RMA's chatter, if the RMA still exists, is not
        cancelled and the company still sends this step's mail, then drop the rows."""
        pending = self.exists()  # the rows of an RMA deleted meanwhile went with it (cascade)
        for step, rows in pending.grouped("step").items():
            template = self.env.ref(NOTIFY_TEMPLATES[step], raise_if_not_found=False)
            if not template:
                continue
            rmas = rows.rma_id.filtered(lambda rma: rma.state != "cancel")._rma_notify_recipients(step)
            for company, company_rmas in rmas.grouped("company_id").items():
                # An automatic message to the customer ("auto_comment"): in the RMA's chatter and in the customer's
                # conversation on the portal page, as the mails they received.
                company_rmas.with_company(company).message_post_with_source(
                    template,
                    message_type="auto_comment",
                    subtype_xmlid="mail.mt_comment",
                    email_layout_xmlid="mail.mail_notification_light",
                )
        pending.unlink()
