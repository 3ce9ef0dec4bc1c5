import io

import psycopg2

from odoo import models
from odoo.tools.pdf import merge_pdf

from odoo.addons.base.models.ir_actions_report import _wkhtml

REPORT_PREFIX = "rma_recovery."


class IrActionsReport(models.Model):
    _inherit = "ir.actions.report"

    def _get_rendering_context(self, report, docids, data):
        """A document saved a moment ago (a report wizard, an RMA just authorized) may not be on a lagging read
        replica yet, where Odoo renders reports: the request is then served again on the primary (readme/DEPLOY.md)."""
        if (
            self.env.cr.readonly
            and docids
            and report.report_name.startswith(REPORT_PREFIX)
            and len(self.env[report.model].browse(docids).exists()) < len(set(docids))
        ):
            raise psycopg2.errors.ReadOnlySqlTransaction(f"{report.report_name}: documents not replicated yet")
        return super()._get_rendering_context(report, docids, data)

    def _render_qweb_pdf_prepare_streams(self, report_ref, data, res_ids=None):
        """The addon's reports print several records with any wkhtmltopdf.

        A wkhtmltopdf built against an unpatched Qt (Debian's package) converts a single document per run: Odoo
        refuses to print several records with it (UserError, or a skipped test). Each record is then converted on
        its own, in the same request; Odoo merges the documents as it merges stored attachments, and saves or reuses
        each record's attachment as it does with a patched build. A record named twice is printed twice, without
        attachment, as Odoo does."""
        unique_ids = list(dict.fromkeys(res_ids or ()))
        if (
            len(unique_ids) < 2
            or _wkhtml().is_patched_qt
            or not self._get_report(report_ref).report_name.startswith(REPORT_PREFIX)
        ):
            return super()._render_qweb_pdf_prepare_streams(report_ref, data, res_ids=res_ids)
        if len(unique_ids) == len(res_ids):
            collected_streams = {}
            for res_id in res_ids:
                collected_streams.update(super()._render_qweb_pdf_prepare_streams(report_ref, data, res_ids=[res_id]))
            return collected_streams
        report = self.with_context(report_pdf_no_attachment=True)
        documents = {}
        for res_id in unique_ids:
            streams = super(IrActionsReport, report)._render_qweb_pdf_prepare_streams(report_ref, data, [res_id])
            documents[res_id] = streams[res_id]["stream"].getvalue()
        return {False: {"stream": io.BytesIO(merge_pdf([documents[res_id] for res_id in res_ids])), "attachment": None}}
