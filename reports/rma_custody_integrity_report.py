from odoo import api, models


class ReportRmaCustodyIntegrity(models.AbstractModel):
    _name = "report.rma_recovery.report_custody_integrity"
    _description = "Chain of Custody Integrity Report"

    @api.model
    def _get_report_values(self, docids, data=None):
        companies = self.env["res.company"].browse(docids)
        Event = self.env["rma.custody.event"]
        results = {}
        for company in companies:
            result = Event._check_integrity(company)
            result["broken_event"] = Event.sudo().browse(result["broken_event_id"]).exists()
            result["broken_line"] = self.env["rma.line"].sudo().browse(result.get("broken_line_id")).exists()
            results[company.id] = result
        return {"doc_ids": companies.ids, "doc_model": "res.company", "docs": companies, "results": results}
