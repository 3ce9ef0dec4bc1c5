import logging

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.tools import format_date

_logger = logging.getLogger(__name__)


class RmaKpiSchedule(models.Model):
    """Who receives the weekly or monthly KPI report (PDF and XLSX), for a warehouse or the whole company."""

    _name = "rma.kpi.schedule"
    _description = "Scheduled Returns KPI Report"
    _check_company_auto = True

    name = fields.Char(required=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company, index=True)
    warehouse_id = fields.Many2one("stock.warehouse", check_company=True, help="Empty: company-wide.")
    period = fields.Selection([("week", "Weekly"), ("month", "Monthly")], required=True, default="month")
    partner_ids = fields.Many2many("res.partner", string="Recipients", required=True)
    sent_report_ids = fields.One2many("rma.kpi.sent.report", "schedule_id", string="Sent Reports", readonly=True)

    def action_send_now(self):
        """Send the last full period's report now (once per period: a period already sent is not sent again)."""
        self.check_access("write")  # the schedules are the Returns Managers'
        for schedule in self:
            # sudo: renders the report as superuser and keeps it on a sent report, the server's record (read-only)
            schedule.sudo()._send(*schedule._last_period())
        return True

    @api.model
    def _cron_send(self, period):
        """Send every active schedule of ``period`` for its last full period, committing after each one; a schedule
        that fails is logged and left for the next run (its period is not marked sent)."""
        schedules = self.search([("period", "=", period)])
        for index, schedule in enumerate(schedules, start=1):
            try:
                with self.env.cr.savepoint():
                    schedule._send(*schedule._last_period())
            except Exception:
                _logger.exception(
                    "Returns KPI report %s could not be sent; it is retried at the next run", schedule.name
                )
            if self.env.context.get("ir_cron_progress_id"):  # run by the cron: commit what is sent, show progress
                self.env["ir.cron"]._commit_progress(1, remaining=len(schedules) - index)

    def _last_period(self):
        """The last full week (Monday to Sunday) or month before today."""
        self.ensure_one()
        today = fields.Date.context_today(self)
        if self.period == "week":
            start = today - relativedelta(days=today.weekday() + 7)
            return start, start + relativedelta(days=6)
        start = today.replace(day=1) - relativedelta(months=1)
        return start, today.replace(day=1) - relativedelta(days=1)

    def _send(self, date_from, date_to):
        """Render the PDF and the XLSX, keep them on a sent-report record, queue one mail per recipient."""
        self.ensure_one()
        if self.sent_report_ids.filtered(lambda sent: sent.date_from == date_from and sent.date_to == date_to):
            return self.env["rma.kpi.sent.report"]
        report = self.env["rma.kpi.report"].create(
            {
                "company_id": self.company_id.id,
                "warehouse_id": self.warehouse_id.id,
                "period": self.period,
                "date_from": date_from,
                "date_to": date_to,
            }
        )
        sent = self.env["rma.kpi.sent.report"].create(
            {"schedule_id": self.id, "date_from": date_from, "date_to": date_to, "user_id": self.env.uid}
        )
        pdf_report = self.env.ref("rma_recovery.action_report_rma_kpi")
        content, kind = pdf_report._render_qweb_pdf(pdf_report.report_name, report.ids)
        xlsx_name, xlsx_content = report._xlsx_file()
        # File names keep ISO dates (they sort); what people read is in their language's date format.
        title = self.env._("Returns KPIs %(start)s to %(end)s", start=date_from.isoformat(), end=date_to.isoformat())
        attachments = self.env["ir.attachment"].create(
            [
                {
                    "name": f"{title}.{kind}",
                    "raw": content,
                    "res_model": sent._name,
                    "res_id": sent.id,
                },
                {
                    "name": xlsx_name,
                    "raw": xlsx_content,
                    "res_model": sent._name,
                    "res_id": sent.id,
                },
            ]
        )
        sent.attachment_ids = attachments
        self.env["mail.mail"].create(
            [
                self.with_context(lang=partner.lang or self.env.lang)._prepare_mail_vals(
                    sent, partner, attachments, date_from, date_to
                )
                for partner in self.partner_ids
            ]
        )
        return sent

    def _prepare_mail_vals(self, sent, partner, attachments, date_from, date_to):
        """The mail of one recipient, in the language of the environment (the recipient's)."""
        self.ensure_one()
        start, end = format_date(self.env, date_from), format_date(self.env, date_to)
        return {
            "subject": self.env._(
                "Returns KPIs %(start)s to %(end)s (%(scope)s)",
                start=start,
                end=end,
                scope=self.warehouse_id.name or self.company_id.name,
            ),
            "body_html": self.env._(
                "<p>The returns KPI report of %(start)s to %(end)s is attached (PDF and XLSX).</p>",
                start=start,
                end=end,
            ),
            "recipient_ids": [fields.Command.link(partner.id)],
            "attachment_ids": [fields.Command.set(attachments.ids)],
            "model": sent._name,
            "res_id": sent.id,
        }


class RmaKpiSentReport(models.Model):
    """A KPI report as it was sent: its period, who sent it and when, and its PDF and XLSX."""

    _name = "rma.kpi.sent.report"
    _description = "Sent Returns KPI Report"
    _order = "date_from desc, id desc"

    schedule_id = fields.Many2one("rma.kpi.schedule", required=True, ondelete="restrict", index=True)
    company_id = fields.Many2one(related="schedule_id.company_id", store=True)
    warehouse_id = fields.Many2one(related="schedule_id.warehouse_id", store=True)
    date_from = fields.Date(required=True)
    date_to = fields.Date(required=True)
    user_id = fields.Many2one("res.users", string="Sent By")
    attachment_ids = fields.Many2many("ir.attachment", string="Reports")

    @api.depends("schedule_id.name", "date_from", "date_to")
    def _compute_display_name(self):
        for sent in self:
            sent.display_name = self.env._(
                "%(schedule)s, %(start)s to %(end)s",
                schedule=sent.schedule_id.name,
                start=format_date(self.env, sent.date_from),
                end=format_date(self.env, sent.date_to),
            )
