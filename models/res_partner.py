from odoo import api, fields, models
from odoo.exceptions import AccessError

from .rma_workflow_guard import MANAGER_GROUP


class ResPartner(models.Model):
    _inherit = "res.partner"

    rma_advance_remedy = fields.Boolean(
        string="Advance Remedies",
        help="A trusted customer: their returned units may be credited or replaced before they arrive (the unit must"
        " then arrive within the company's delay, or the RMA gets an activity).",
    )

    @api.model_create_multi
    def create(self, vals_list):
        if any(vals.get("rma_advance_remedy") for vals in vals_list):
            self._ensure_can_grant_advance_remedies()
        return super().create(vals_list)

    def write(self, vals):
        if "rma_advance_remedy" in vals:
            self._ensure_can_grant_advance_remedies()
        return super().write(vals)

    def _ensure_can_grant_advance_remedies(self):
        # Advance remedies skip the manager's confirmation of a refund or replacement: whoever may edit contacts
        # (any internal user) must not be able to grant them.
        if not self.env.su and not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(self.env._("Only a Returns Manager allows a customer advance remedies."))
