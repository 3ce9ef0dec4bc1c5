import psycopg2

from odoo.http import Controller, content_disposition, request, route

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class RmaKpiReportController(Controller):
    @route("/rma_recovery/kpi_report/<int:report_id>/xlsx", type="http", auth="user", readonly=True)
    def download_kpi_xlsx(self, report_id):
        """The KPI workbook of a report, built on the fly (nothing is stored); the report checks who asks."""
        report = request.env["rma.kpi.report"].browse(report_id).exists()
        if not report and request.env.cr.readonly:
            # The report was saved a moment ago on the primary and a read replica has not replayed it yet: Odoo serves
            # a read-only route that raises this again on the primary (readme/DEPLOY.md).
            raise psycopg2.errors.ReadOnlySqlTransaction(f"KPI report {report_id} not on the read-only cursor yet")
        if not report:
            raise request.not_found()
        name, content = report._xlsx_file()
        return request.make_response(
            content, [("Content-Type", XLSX_MIMETYPE), ("Content-Disposition", content_disposition(name))]
        )
