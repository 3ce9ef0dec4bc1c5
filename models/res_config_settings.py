from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    rma_return_window_days = fields.Integer(related="company_id.rma_return_window_days", readonly=False)
    rma_warranty_months = fields.Integer(related="company_id.rma_warranty_months", readonly=False)
    rma_shipping_days = fields.Integer(related="company_id.rma_shipping_days", readonly=False)
    rma_advance_return_days = fields.Integer(related="company_id.rma_advance_return_days", readonly=False)
    rma_warranty_account_id = fields.Many2one(related="company_id.rma_warranty_account_id", readonly=False)
    rma_sanitization_rules = fields.Boolean(related="company_id.rma_sanitization_rules", readonly=False)
    rma_disposition_segregation = fields.Boolean(related="company_id.rma_disposition_segregation", readonly=False)
    rma_disposition_job_threshold = fields.Integer(related="company_id.rma_disposition_job_threshold", readonly=False)
    rma_notify_authorized = fields.Boolean(related="company_id.rma_notify_authorized", readonly=False)
    rma_notify_received = fields.Boolean(related="company_id.rma_notify_received", readonly=False)
    rma_notify_inspected = fields.Boolean(related="company_id.rma_notify_inspected", readonly=False)
    rma_notify_remedy_done = fields.Boolean(related="company_id.rma_notify_remedy_done", readonly=False)
    rma_notify_closed = fields.Boolean(related="company_id.rma_notify_closed", readonly=False)
    rma_notify_rejected = fields.Boolean(related="company_id.rma_notify_rejected", readonly=False)

    def action_rma_custody_seal(self):
        """Seal the company's unit chains changed since the last seal, now."""
        return self.env["rma.custody.seal"].with_company(self.company_id).action_seal_now()

    def action_rma_custody_check(self):
        """Check every chain of custody and seal of the company in the background, and open the check."""
        return self.env["rma.custody.check"].with_company(self.company_id).action_check_company()

    def action_rma_custody_checks(self):
        return self.env["ir.actions.act_window"]._for_xml_id("rma_recovery.rma_custody_check_action")

    def action_rma_custody_integrity_report(self):
        """Recompute the company's custody chains and print the result."""
        return self.env.ref("rma_recovery.action_report_custody_integrity").report_action(self.company_id)

    def action_rma_custody_export(self):
        """A new export of the company's chains of custody for a period, to start in the background."""
        action = self.env["ir.actions.act_window"]._for_xml_id("rma_recovery.rma_custody_export_action")
        action.update(views=[(False, "form")], view_mode="form", context={"default_company_id": self.company_id.id})
        return action

    def action_rma_custody_exports(self):
        return self.env["ir.actions.act_window"]._for_xml_id("rma_recovery.rma_custody_export_action")
