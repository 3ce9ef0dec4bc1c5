from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools.misc import format_datetime

from .rma_custody_event import custody_hash
from .rma_workflow_guard import ensure_workflow_fields, is_server_write, server_owned, server_write

METHOD_TYPES = [("clear", "Clear"), ("purge", "Purge"), ("destroy", "Destroy")]
METHODS = [
    ("degauss", "Degauss"),
    ("overwrite", "Overwrite"),
    ("block_erase", "Block Erase"),
    ("crypto_erase", "Cryptographic Erase"),
    ("shred", "Shred"),
    ("disintegrate", "Disintegrate"),
    ("incinerate", "Incinerate"),
    ("pulverize", "Pulverize"),
    ("other", "Other"),
]
# The fields a validated certificate's hash covers, in this order (NIST SP 800-88 Rev. 1, Appendix G). Changing the
# list changes every hash: add new fields at the end.
HASHED_FIELDS = (
    "name",
    "company_id",
    "line_id",
    "serial",
    "performer_name",
    "performer_title",
    "performer_organization",
    "performer_location",
    "performer_phone",
    "media_make",
    "media_model",
    "media_serial",
    "media_property_number",
    "media_type",
    "media_source",
    "classification",
    "is_backed_up",
    "backup_location",
    "method_type",
    "method",
    "method_details",
    "tool",
    "verification",
    "post_classification",
    "notes",
    "media_destination",
    "performed_by_id",
    "performed_date",
    "validated_by_id",
    "validated_date",
    "origin_country_id",
)
# Fields added after certificates were first hashed: each counts once a certificate has it (empty ones at the end are
# left out), so a certificate validated before they existed keeps its hash.
HASHED_FIELDS_ADDED = (
    "validator_title",
    "validator_organization",
    "validator_location",
    "validator_phone",
    "date_tz",
)
# "2026-12-04 14:05": the dates a certificate prints, followed by their time zone's name
DATE_PATTERN = "yyyy-MM-dd HH:mm"


class RmaSanitization(models.Model):
    """A Certificate of Sanitization (NIST SP 800-88 Rev. 1, Appendix G) for one medium of a returned unit.

    Draft (filled in) -> Performed (by the technician who sanitized the medium) -> Validated (by a second person,
    then locked and hashed) -> or Cancelled before validation. A unit has one per medium (a laptop's SSD and its
    NVMe cache)."""

    _name = "rma.sanitization"
    _inherit = ["mail.thread", "rma.input.mixin"]
    _description = "Certificate of Sanitization"
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(string="Certificate Number", readonly=True, copy=False, index="btree_not_null")
    state = fields.Selection(
        [("draft", "Draft"), ("performed", "Performed"), ("validated", "Validated"), ("cancel", "Cancelled")],
        string="Status",
        default="draft",
        readonly=True,
        copy=False,
        index=True,
        tracking=True,
        help="Draft: being filled in. Performed: the technician sanitized the medium. Validated: a second person"
        " checked it; the certificate is locked. Cancelled: withdrawn before validation.",
    )
    line_id = fields.Many2one("rma.line", string="Unit", required=True, index=True, check_company=True)
    rma_id = fields.Many2one(related="line_id.rma_id", store=True, index=True)
    company_id = fields.Many2one(related="line_id.company_id", store=True, index=True)
    product_id = fields.Many2one(related="line_id.product_id")
    lot_id = fields.Many2one(related="line_id.lot_id", string="Serial Number")
    serial = fields.Char(related="line_id.serial_number", string="Unit Serial / IMEI", store=True)
    origin_country_id = fields.Many2one(
        "res.country", string="Country of Origin", readonly=True, help="The unit's, when the record was made."
    )

    # Person performing sanitization
    performer_name = fields.Char(string="Name")
    performer_title = fields.Char(string="Title")
    performer_organization = fields.Char(string="Organization")
    performer_location = fields.Char(string="Location")
    performer_phone = fields.Char(string="Phone")

    # Media information
    media_make = fields.Char(string="Make / Vendor")
    media_model = fields.Char(string="Model Number")
    media_serial = fields.Char(string="Media Serial Number")
    media_property_number = fields.Char()
    media_type = fields.Selection(
        [
            ("magnetic", "Magnetic"),
            ("flash", "Flash Memory"),
            ("hybrid", "Hybrid"),
            ("optical", "Optical"),
            ("paper", "Paper"),
            ("other", "Other"),
        ],
        default="flash",
    )
    media_source = fields.Char(string="Source", help="The user or computer the media came from.")
    classification = fields.Char(help="Of the data before sanitization.")
    is_backed_up = fields.Boolean(string="Data Backed Up")
    backup_location = fields.Char()

    # Sanitization details
    method_type = fields.Selection(METHOD_TYPES, required=True, default="purge")
    method = fields.Selection(METHODS, string="Method Used", required=True, default="overwrite")
    method_details = fields.Text()
    tool = fields.Char(string="Tool Used (and Version)")
    verification = fields.Selection(
        [("full", "Full"), ("quick_sampling", "Quick Sampling"), ("other", "Other")],
        string="Verification Method",
        default="full",
    )
    post_classification = fields.Char(string="Post-Sanitization Classification")
    notes = fields.Text()
    media_destination = fields.Selection(
        [
            ("internal_reuse", "Internal Reuse"),
            ("external_reuse", "External Reuse"),
            ("recycling", "Recycling Facility"),
            ("manufacturer", "Manufacturer"),
            ("destroyed", "Destroyed"),
            ("other", "Other"),
        ],
    )

    # Person validating: their contact details default from their user when they validate
    validator_title = fields.Char(string="Validator's Title")
    validator_organization = fields.Char(string="Validator's Organization")
    validator_location = fields.Char(string="Validator's Location")
    validator_phone = fields.Char(string="Validator's Phone")

    # Who, when: written by the server in the step
    performed_by_id = fields.Many2one("res.users", readonly=True, copy=False)
    performed_date = fields.Datetime(string="Performed On", readonly=True, copy=False)
    validated_by_id = fields.Many2one("res.users", readonly=True, copy=False)
    validated_date = fields.Datetime(string="Validated On", readonly=True, copy=False)
    date_tz = fields.Char(
        string="Time Zone",
        readonly=True,
        copy=False,
        help="The time zone the certificate states its dates in: the company's, else the performing user's, set when"
        " the sanitization is performed.",
    )
    performed_date_text = fields.Char(
        string="Performed On (Stated)", compute="_compute_date_texts", help="As the certificate prints it."
    )
    validated_date_text = fields.Char(
        string="Validated On (Stated)", compute="_compute_date_texts", help="As the certificate prints it."
    )
    hash = fields.Char(
        string="Certificate Hash", readonly=True, copy=False, help="sha256 of the validated record ($1$ + hex digest)."
    )

    # ------------------------------------------------------------------
    # Compute
    # ------------------------------------------------------------------
    @api.depends("performed_date", "validated_date", "date_tz")
    def _compute_date_texts(self):
        """The dates as the certificate prints them, "2026-12-04 14:05 (Europe/Brussels)": the form shows them so,
        whatever the browser's time zone."""
        for record in self:
            record.performed_date_text = record._format_date(record.performed_date)
            record.validated_date_text = record._format_date(record.validated_date)

    # ------------------------------------------------------------------
    # CRUD: validated certificates are locked
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        self._check_input_shape(vals_list)
        ensure_workflow_fields(self, {name for vals in vals_list for name in vals})
        self.check_access("create")  # Returns Inspectors and Managers, before a number is drawn
        lines = self.env["rma.line"].browse({vals.get("line_id") for vals in vals_list} - {None, False}).exists()
        origin = {line.id: line.origin_country_id.id for line in lines}
        for vals in vals_list:
            vals["origin_country_id"] = origin.get(vals.get("line_id"), False)
        records = super().create(vals_list)
        for company, company_records in records.grouped("company_id").items():
            domain = [("code", "=", self._name), ("company_id", "=", company.id)]
            sequence = self.env["ir.sequence"].search(domain, limit=1)
            if not sequence:  # a company made before certificates existed
                company._create_rma_sequences()
                sequence = self.env["ir.sequence"].search(domain, limit=1)
            numbers = sequence._rma_next_numbers(len(company_records))
            for record, number in zip(server_owned(company_records), numbers, strict=True):
                record.name = number
        return records

    def write(self, vals):
        ensure_workflow_fields(self, vals)
        locked = self.filtered(lambda record: record.state in ("validated", "cancel"))
        if locked:
            raise UserError(
                self.env._(
                    "%(certificates)s are validated or cancelled: a certificate is never changed afterwards.",
                    certificates=", ".join(locked.mapped("display_name")),
                )
            )
        if not is_server_write(self.env) and self.filtered(lambda record: record.state != "draft"):
            raise UserError(self.env._("A performed sanitization is validated or cancelled, not edited."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_performed(self):
        if any(record.state != "draft" for record in self):
            raise UserError(self.env._("Only draft sanitization records can be deleted; cancel a performed one."))

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_perform(self):
        """The technician sanitized (or destroyed) the medium: recorded with their name and the time."""
        self._ensure_inspector()
        if any(record.state != "draft" for record in self):
            raise UserError(self.env._("Only draft sanitization records are performed."))
        missing = self.filtered(
            lambda record: not record.performer_name or (not record.tool and record.method_type != "destroy")
        )
        if missing:
            raise UserError(
                self.env._(
                    "%(certificates)s: enter the person performing the sanitization and the tool used.",
                    certificates=", ".join(missing.mapped("display_name")),
                )
            )
        now = fields.Datetime.now()
        by_vals = {}  # the details the technician left empty come from their user: one write per set of values
        for record in self:
            vals = record._prepare_contact_vals("performer", self.env.user)
            vals["date_tz"] = record.company_id._rma_timezone()
            key = tuple(sorted(vals.items()))
            by_vals[key] = by_vals.get(key, self.browse()) | record
        for key, records in by_vals.items():
            # the performer's own fields are server-owned
            server_write(records, dict(key, state="performed", performed_by_id=self.env.uid, performed_date=now))
        self._log_custody("wipe")
        return True

    def action_validate(self):
        """A second person (Inspector or Manager, not the one who performed it) validates: the certificate is
        locked and hashed, and an SD unit whose every medium is destroyed closes."""
        self._ensure_inspector()
        if any(record.state != "performed" for record in self):
            raise UserError(self.env._("Only performed sanitizations are validated."))
        own = self.filtered(lambda record: record.performed_by_id == self.env.user)
        if own:
            raise UserError(
                self.env._(
                    "%(certificates)s: a second person validates a sanitization, not the one who performed it.",
                    certificates=", ".join(own.mapped("display_name")),
                )
            )
        now = fields.Datetime.now()
        for record in server_owned(self):
            contact = record._prepare_contact_vals("validator", self.env.user)
            record.write({"validated_by_id": self.env.uid, "validated_date": now} | contact)
            record.write({"hash": record._compute_certificate_hash(), "state": "validated"})
        self._log_custody("certificate")
        self.line_id._close_if_destruction_certified()
        return True

    def action_cancel(self):
        self._ensure_inspector()
        if any(record.state not in ("draft", "performed") for record in self):
            raise UserError(self.env._("A validated certificate cannot be cancelled."))
        server_write(self, {"state": "cancel"})
        return True

    def action_print(self):
        return self.env.ref("rma_recovery.action_report_sanitization_certificate").report_action(self)

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------
    def _ensure_inspector(self):
        # Returns Inspectors and Managers record and validate sanitizations (their ACL): refused before any write.
        self.check_access("write")

    def _prepare_contact_vals(self, role, user):
        """The ``role``'s (``performer`` or ``validator``) title, organization, location and phone left empty on
        the certificate, from ``user``: their job position and phone, else the company's phone, the company's name
        and address (in its country's format)."""
        self.ensure_one()
        company = self.company_id or user.company_id
        defaults = {
            "title": user.partner_id.function,
            "organization": company.name,
            "location": company._rma_address_line(),
            "phone": user.partner_id.phone or company.phone,
        }
        return {f"{role}_{key}": value for key, value in defaults.items() if value and not self[f"{role}_{key}"]}

    def _format_date(self, value):
        """``value`` in the certificate's time zone, followed by the zone's name; empty when ``value`` is."""
        self.ensure_one()
        if not value:
            return False
        tz = self.date_tz or self.company_id._rma_timezone()
        return f"{format_datetime(self.env, value, tz=tz, dt_format=DATE_PATTERN)} ({tz})"

    def _log_custody(self, event_type):
        """The wipe or destruction (``wipe``), or the validation (``certificate``), in the unit's chain of custody."""
        labels = dict(METHOD_TYPES)
        notes = {
            record: self.env._(
                "Sanitized (%(type)s): %(certificate)s", type=labels[record.method_type], certificate=record.name
            )
            if event_type == "wipe"
            else self.env._(
                "Certificate %(certificate)s validated (%(type)s), hash %(hash)s",
                certificate=record.name,
                type=labels[record.method_type],
                hash=record.hash,
            )
            for record in self
        }
        # One event per certificate: a unit with several media gets one per certificate, in rounds of distinct units.
        rounds = []
        for record in self:
            free = next((batch for batch in rounds if record.line_id not in batch), None)
            if free is None:
                free = {}
                rounds.append(free)
            free[record.line_id] = notes[record]
        for batch in rounds:
            units = self.env["rma.line"].union(*batch)
            self.env["rma.custody.event"]._log(
                units, event_type, destination={unit: unit.location_id for unit in units}, note=batch
            )

    def _hash_values(self):
        """The HASHED_FIELDS values in order: ids, text, dates as "YYYY-MM-DD HH:MM:SS", None for empty; then the
        HASHED_FIELDS_ADDED values up to the last one set."""
        self.ensure_one()
        values = []
        for name in HASHED_FIELDS + HASHED_FIELDS_ADDED:
            field, value = self._fields[name], self[name]
            if field.type == "many2one":
                value = value.id or None
            elif field.type == "datetime":
                value = fields.Datetime.to_string(value) if value else None
            elif field.type != "boolean":
                value = value or None
            values.append(value)
        while len(values) > len(HASHED_FIELDS) and values[-1] is None:
            values.pop()
        return values

    def _compute_certificate_hash(self):
        """Hashed as a custody event is (rma_custody_event.custody_hash), on its own: a certificate has no chain."""
        return custody_hash(None, self._hash_values())

    def _check_certificate_hash(self):
        """{certificate: True when its stored hash still matches its fields}."""
        return {record: record.hash == record._compute_certificate_hash() for record in self}
