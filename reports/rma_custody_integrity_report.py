from odoo import api, models
from odoo.exceptions import AccessError

from ..models.rma_workflow_guard import MANAGER_GROUP


class ReportRmaCustodyIntegrity(models.AbstractModel):
    _name = "report.rma_recovery.report_custody_integrity"
    _description = "Chain of Custody Integrity Report"

    @api.model
    def _get_report_values(self, docids, data=None):
        # The report checks every chain of a company in SQL (no record rule applies there): only Returns Managers,
        # for their own companies (whoever calls /report/... with whatever ids).
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(self.env._("Only Returns Managers check the integrity of the chain of custody."))
        companies = self.env["res.company"].browse(docids)
        if companies - self.env.user.company_ids:
            raise AccessError(self.env._("You can only check the chain of custody of your own companies."))
        results = {}
        for company in companies:
            Event = self.env["rma.custody.event"].with_company(company)  # the company's records, read as the manager
            result = Event._check_integrity(company)
            result["broken_event"] = Event.browse(result["broken_event_id"]).exists()
            result["broken_line"] = Event.env["rma.line"].browse(result.get("broken_line_id")).exists()
            results[company.id] = result
        return {"doc_ids": companies.ids, "doc_model": "res.company", "docs": companies, "results": results}
