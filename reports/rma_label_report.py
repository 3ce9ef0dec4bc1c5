from odoo import api, models
from odoo.exceptions import UserError


class ReportRmaLabel(models.AbstractModel):
    _name = "report.rma_recovery.report_rma_label"
    _description = "RMA Authorization Label"

    @api.model
    def _get_report_values(self, docids, data=None):
        rmas = self.env["rma.order"].browse(docids)
        unauthorized = rmas.filtered(lambda rma: not rma.name)
        if unauthorized:
            raise UserError(
                self.env._(
                    "Only authorized RMAs have a label: %(rmas)s has no RMA number yet.",
                    rmas=", ".join(unauthorized.mapped("display_name")),
                )
            )
        return {"doc_ids": rmas.ids, "doc_model": "rma.order", "docs": rmas}
