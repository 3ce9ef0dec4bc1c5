from odoo import api, fields, models
from odoo.exceptions import UserError


class RmaLine(models.Model):
    """Data sanitization of a data-bearing unit (NIST SP 800-88): its certificates, one per medium, and the rules
    that tie the disposition and the closing of the unit to them."""

    _inherit = "rma.line"

    sanitization_ids = fields.One2many("rma.sanitization", "line_id", string="Sanitizations", readonly=True)
    sanitization_count = fields.Integer(compute="_compute_sanitization_count")
    data_security = fields.Selection(related="inspection_id.data_security", string="Data Security")

    @api.depends("sanitization_ids")
    def _compute_sanitization_count(self):
        for line in self:
            line.sanitization_count = len(line.sanitization_ids)

    def action_view_sanitizations(self):
        self.ensure_one()
        action = self.sanitization_ids._get_records_action(name=self.env._("Sanitization"))
        action["context"] = {"default_line_id": self.id}
        return action

    def action_print_certificates(self):
        certificates = self.sanitization_ids.filtered(lambda record: record.state == "validated")
        if not certificates:
            raise UserError(self.env._("These units have no validated certificate of sanitization yet."))
        return self.env.ref("rma_recovery.action_report_sanitization_certificate").report_action(certificates)

    # ------------------------------------------------------------------
    # Rules
    # ------------------------------------------------------------------
    def _sanitized_with(self, method_types):
        """Every medium of the unit has a validated certificate of one of ``method_types`` (and there is one)."""
        self.ensure_one()
        records = self.sanitization_ids.filtered(lambda record: record.state != "cancel")
        return bool(records) and all(
            record.state == "validated" and record.method_type in method_types for record in records
        )

    def _sanitization_blocker(self, code):
        """Why the unit cannot be disposed with ``code`` given its data-security requirement, or None."""
        self.ensure_one()
        if not self.company_id.rma_sanitization_rules:
            return None
        requirement = self.inspection_id.data_security
        if requirement == "destroy":
            if code.treatment == "destroy":
                return None
            if code.destination == "rma_harvest_location_id" and self._sanitized_with(("destroy",)):
                return None
            return self.env._(
                "%(unit)s must be destroyed: dispose it SD, or PH once a validated Destroy certificate covers each of"
                " its media.",
                unit=self.display_name,
            )
        if (
            requirement == "wipe"
            and code.treatment in ("restock", "refurbish", "repair")
            and not self._sanitized_with(("clear", "purge", "destroy"))
        ):
            return self.env._(
                "%(unit)s must be wiped first: it is restocked, refurbished or repaired once a validated Clear or Purge"
                " certificate covers each of its media.",
                unit=self.display_name,
            )
        return None

    def _close_if_destruction_certified(self):
        """SD units whose every medium has a validated Destroy certificate close (rma.line._close_destroyed)."""
        certified = self.filtered(
            lambda line: line.state == "disposition" and line.sudo()._sanitized_with(("destroy",))
        )
        for line in certified:
            names = line.sanitization_ids.filtered(lambda record: record.state == "validated").mapped("name")
            line._close_destroyed(self.env._("Destruction certified: %(certificates)s", certificates=", ".join(names)))

    def _create_sanitizations_from_inspection(self):
        """Draft certificates for the units whose inspection requires a wipe or destruction, one medium each."""
        lines = self.filtered(
            lambda line: line.inspection_id.data_security in ("wipe", "destroy") and not line.sanitization_ids
        )
        if not lines:
            return
        self.env["rma.sanitization"].create(
            [
                {
                    "line_id": line.id,
                    "method_type": "destroy" if line.inspection_id.data_security == "destroy" else "purge",
                    "method": "shred" if line.inspection_id.data_security == "destroy" else "overwrite",
                    "media_destination": "destroyed" if line.inspection_id.data_security == "destroy" else False,
                    "performer_name": self.env.user.name,
                    "performer_organization": line.company_id.name,
                }
                for line in lines
            ]
        )
