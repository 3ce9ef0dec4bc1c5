from dateutil.relativedelta import relativedelta

from odoo import fields, models


class RmaKpiReport(models.TransientModel):
    _inherit = "rma.kpi.report"

    def _get_report_data(self):
        data = super()._get_report_data()
        data["vendor"] = self._vendor_figures()
        return data

    def _vendor_figures(self):
        """Vendor recovery (credited + replaced value / value sent) and turnaround (shipped → answered, days) of the
        units shipped to their vendors in the period, per vendor (the KPI report's "Vendor returns" table)."""
        self.ensure_one()
        start = fields.Datetime.to_datetime(self.date_from)
        end = fields.Datetime.to_datetime(self.date_to) + relativedelta(days=1)
        domain = [
            ("company_id", "=", self.company_id.id),
            ("shipped_date", ">=", start),
            ("shipped_date", "<", end),
        ]
        if self.warehouse_id:
            domain.append(("unit_id.rma_id.warehouse_id", "=", self.warehouse_id.id))
        # sudo: the manager's report (checked by _get_report_data), over their company
        lines = self.env["rma.vendor.return.line"].sudo().search(domain)
        rows = []
        for vendor, vendor_lines in lines.grouped(lambda line: line.vendor_return_id.partner_id).items():
            sent = sum(vendor_lines.mapped("value_sent"))
            recovered = sum(vendor_lines.mapped("value_recovered"))
            answered = vendor_lines.filtered("answer_date")
            rows.append(
                {
                    "vendor": vendor.display_name,
                    "units": len(vendor_lines),
                    "sent": sent,
                    "recovered": recovered,
                    "pct": 100.0 * recovered / sent if sent else None,
                    "turnaround": (
                        sum((line.answer_date - line.shipped_date).total_seconds() for line in answered)
                        / 86400.0
                        / len(answered)
                        if answered
                        else None
                    ),
                }
            )
        return rows
