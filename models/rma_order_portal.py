import uuid
from datetime import timedelta

from markupsafe import escape

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import float_compare, plaintext2html

from .rma_proof_file import proof_mimetype
from .rma_workflow_guard import MANAGER_GROUP, MODULE, USER_GROUP

# What a portal user (the customer) may read of their RMA, over any client: their request, its decision and dates.
# The addon's other fields (checks, flags, responsible, warehouse, counts of internal documents) stay with the staff;
# those of mail.thread and portal.mixin follow Odoo's own rules.
PORTAL_ORDER_FIELDS = frozenset(
    {
        "access_token",  # portal.mixin's, given a default below: Odoo's chatter and attachments read it
        "name",
        "state",
        "company_id",
        "partner_id",
        "commercial_partner_id",
        "sale_order_id",
        "customer_reference",
        "reason_id",
        "description",
        "proof_attachment_ids",
        "request_date",
        "authorize_date",
        "reject_reason",
        "line_ids",
        "line_count",
    }
)
# The portal's status filters (My Account > Returns): key -> domain (labels in _portal_state_filters).
PORTAL_STATE_FILTERS = {
    "all": [],
    "requested": [("state", "=", "draft")],
    "authorized": [("state", "=", "authorized")],
    "in_progress": [("state", "=", "in_progress")],
    "done": [("state", "=", "done")],
    "rejected": [("state", "in", ("rejected", "cancel"))],
}

# Bytes per file. Odoo's HTTP layer refuses a form past 10 MB in all (413, werkzeug's max_form_memory_size) before
# any controller runs: a file must stay well under it for the customer to get this addon's message.
PORTAL_MAX_FILE_SIZE = 5 * 1024 * 1024
PORTAL_MAX_FILES = 10  # per request
# Per portal user and hour; a system parameter of the same name (rma_recovery.portal_*) overrides each.
PORTAL_LIMITS = {"portal_requests_per_hour": 10, "portal_uploads_per_hour": 30}
MAX_SERIAL_LENGTH = 64
MAX_TEXT_LENGTH = 5000


class RmaOrder(models.Model):
    """The RMA as its customer sees it in the portal (My Account > Returns, controllers/portal.py): what they may
    read, their label, and the requests they make there."""

    _inherit = "rma.order"

    # Every RMA has its token from the start: Odoo's chatter compares a token sent for an RMA with the RMA's own, and
    # fails with a server error (not a refusal) when the RMA has none yet.
    access_token = fields.Char(default=lambda self: str(uuid.uuid4()))

    def _has_field_access(self, field, operation):
        # Portal and public users read their request and its decision, nothing the staff recorded about it.
        if (
            self.env.user.share
            and not self.env.su
            and field._module == MODULE
            and field.name not in PORTAL_ORDER_FIELDS
        ):
            return False
        return super()._has_field_access(field, operation)

    def _compute_access_url(self):  # pylint: disable=missing-return
        # The customer's page of the RMA in the portal (My Account > Returns), which mails link to with a token.
        super()._compute_access_url()
        for rma in self:
            rma.access_url = f"/my/returns/{rma.id}"

    @api.model
    def action_share(self, *args, **kwargs):
        """Odoo's Share wizard (portal.mixin), opened from an RMA's form: a call with arguments or without the RMA
        in its context gets a clear error rather than a traceback."""
        context = self.env.context
        if args or kwargs or type(context.get("active_id")) is not int or context.get("active_model") != self._name:
            raise UserError(self.env._("Share an RMA from its form."))
        return super().action_share()

    def _get_report_base_filename(self):
        self.ensure_one()
        return self.env._("RMA Label %(number)s", number=self.name or self.id)

    def _portal_state_filters(self):
        labels = {
            "all": self.env._("All"),
            "requested": self.env._("Requested"),
            "authorized": self.env._("Authorized"),
            "in_progress": self.env._("In Progress"),
            "done": self.env._("Closed"),
            "rejected": self.env._("Rejected or Cancelled"),
        }
        return {key: {"label": labels[key], "domain": domain} for key, domain in PORTAL_STATE_FILTERS.items()}

    def _portal_has_label(self):
        """The customer prints the label once the RMA is authorized, until its units are back or it is withdrawn."""
        self.ensure_one()
        return bool(self.name) and self.state in ("authorized", "in_progress")

    # ------------------------------------------------------------------
    # Requests from the portal (controllers/portal.py: /my/returns/new)
    # ------------------------------------------------------------------
    @api.model
    def _portal_limit(self, key):
        # As superuser: portal customers read no system parameter; this one is the limit that applies to them.
        param = self.env["ir.config_parameter"].sudo().get_param(f"{MODULE}.{key}")
        return int(param) if param and param.isdigit() else PORTAL_LIMITS[key]

    @api.model
    def _portal_returnable_units(self, partner):
        """What the customer may tick in the request form: the units delivered for their sale orders.

        {key: {"order", "product", "serial", "lot", "max_qty", "move"}}, by the form's key: ``<order>-l<lot>`` for a
        serial, ``<order>-p<product>`` for an untracked product (its delivered quantity summed). Read as superuser:
        portal customers read no stock; the domain keeps to deliveries to their own company's contacts."""
        commercial = partner.commercial_partner_id
        move_lines = (
            self.env["stock.move.line"]
            .sudo()
            .search(
                [
                    ("state", "=", "done"),
                    ("location_dest_id.usage", "=", "customer"),
                    ("move_id.picking_id.partner_id", "child_of", commercial.id),
                    ("move_id.sale_line_id.order_id.partner_id", "child_of", commercial.id),
                ],
                order="date desc, id desc",
            )
        )
        # A serial already on a return (requested, authorized or further) is not offered again.
        lots = move_lines.lot_id
        # As superuser, as the move lines above: the serials may be on returns of any of the customer's contacts.
        returns = (
            self.env["rma.line"]
            .sudo()
            .search_fetch(
                [
                    "|",
                    ("lot_id", "in", lots.ids),
                    ("serial_number", "in", lots.mapped("name")),
                    ("state", "not in", ("rejected", "cancel")),
                ],
                ["lot_id", "serial_number", "product_id"],
            )
        )
        on_return = set(returns.lot_id.ids) | {(line.product_id.id, line.serial_number) for line in returns}
        units = {}
        for move_line in move_lines:
            order = move_line.move_id.sale_line_id.order_id
            product = move_line.product_id
            if product.tracking == "serial" and (
                move_line.lot_id.id in on_return or (product.id, move_line.lot_id.name) in on_return
            ):
                continue
            if product.tracking == "serial" and move_line.lot_id:
                units.setdefault(
                    f"{order.id}-l{move_line.lot_id.id}",
                    {
                        "order": order,
                        "product": product,
                        "serial": move_line.lot_id.name,
                        "lot": move_line.lot_id,
                        "max_qty": 1.0,
                        "move": move_line.move_id,
                    },
                )
            elif product.tracking == "none":
                unit = units.setdefault(
                    f"{order.id}-p{product.id}",
                    {"order": order, "product": product, "serial": False, "lot": False, "max_qty": 0.0, "move": False},
                )
                unit["max_qty"] += move_line.product_uom_id._compute_quantity(move_line.quantity, product.uom_id)
        return units

    @api.model
    def _portal_reasons(self, company):
        # As superuser: portal customers do not read the reasons' configuration, only their names.
        return self.env["rma.reason"].sudo().search([("company_id", "in", [False, company.id])])

    @api.model
    def _portal_create_request(self, partner, values, files=()):
        """Record a customer's request from the portal as a draft RMA for the Returns team, with an activity.

        ``values``: ``reason_id``, ``units`` ({form key: quantity}, see _portal_returnable_units), ``typed_units``
        ([{"serial", "order_ref", "product_id"}]: units typed without an order), ``customer_reference``,
        ``description``. ``files``: [(kind, file name, bytes)], kind "proof" or "photo". Everything is checked before
        anything is written; the units then go through the back office's checks (flags shown to staff only).
        Returns the RMA, as the portal user."""
        self._portal_ensure_request_rate()
        units = self._portal_request_units(partner, values)
        companies = {unit["company"] for unit in units}
        if len(companies) > 1:
            raise UserError(self.env._("Request the return of the units of each of our companies separately."))
        company = companies.pop()
        reason = self._portal_reasons(company).filtered(lambda reason: str(reason.id) == str(values.get("reason_id")))
        if not reason:
            raise UserError(self.env._("Choose the reason of the return."))
        checked_files = self._portal_check_files(files)
        if reason.is_proof_required and not any(kind == "proof" for kind, _name, _data, _type in checked_files):
            raise UserError(
                self.env._("The reason %(reason)s requires a proof of purchase: attach it.", reason=reason.name)
            )
        texts = {name: self._portal_text(values.get(name), name) for name in ("customer_reference", "description")}
        orders = {unit["order"] for unit in units} - {False}
        references = [texts["customer_reference"], *(unit["order_ref"] for unit in units)]
        vals = {
            "partner_id": partner.id,
            "company_id": company.id,
            "reason_id": reason.id,
            "sale_order_id": orders.pop().id if len(orders) == 1 else False,
            "customer_reference": ", ".join(dict.fromkeys(ref for ref in references if ref)) or False,
            "description": plaintext2html(texts["description"]) if texts["description"] else False,
            "user_id": self._portal_responsible(partner, company).id,
            "line_ids": [
                fields.Command.create(
                    {"product_id": unit["product"].id, "serial_number": unit["serial"], "quantity": unit["quantity"]}
                )
                for unit in units
            ],
        }
        # As superuser: portal customers create no RMA through the ORM; the values were built above from their own
        # deliveries and checked choices.
        rma = self.sudo().with_company(company).create(vals)
        # As superuser: the files were checked above (signature, size, hourly limit); they become the new RMA's proof.
        attachments = (
            self.env["ir.attachment"]
            .sudo()
            .create(
                [
                    {"name": name, "raw": data, "mimetype": mimetype, "res_model": self._name, "res_id": rma.id}
                    for _kind, name, data, mimetype in checked_files
                ]
            )
        )
        proofs = attachments.browse(
            [attachment.id for attachment, file in zip(attachments, checked_files, strict=True) if file[0] == "proof"]
        )
        rma.proof_attachment_ids = proofs
        rma.message_subscribe(partner_ids=partner.ids)
        rma.message_post(
            body=escape(self.env._("Return requested from the customer portal.")),
            author_id=partner.id,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            attachment_ids=(attachments - proofs).ids,
        )
        rma.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=self.env._("Review the return request"),
            note=self.env._(
                "%(customer)s requested the return of %(count)s unit(s) from the portal.",
                customer=partner.display_name,
                count=len(units),
            ),
            user_id=rma.user_id.id,
        )
        return rma.sudo(False)

    @api.model
    def _portal_ensure_request_rate(self):
        limit = self._portal_limit("portal_requests_per_hour")
        since = fields.Datetime.now() - timedelta(hours=1)
        # As superuser: counts the user's own requests, which the portal does not let them search by author.
        done = self.sudo().search_count([("create_uid", "=", self.env.uid), ("create_date", ">=", since)])
        if done >= limit:
            raise UserError(
                self.env._(
                    "You have sent %(count)s return requests in the last hour, the most we accept: please try again"
                    " later or contact us.",
                    count=done,
                )
            )

    @api.model
    def _portal_request_units(self, partner, values):
        """[{"product", "serial", "quantity", "order", "order_ref", "company"}] from the ticked and typed units."""
        returnable = self._portal_returnable_units(partner)
        ticked = values.get("units") or {}
        typed = values.get("typed_units") or []
        if not isinstance(ticked, dict) or not isinstance(typed, list):
            raise ValidationError(self.env._("The request's units are malformed."))
        units = []
        for key, quantity in ticked.items():
            unit = returnable.get(key)
            if not unit:
                raise UserError(self.env._("A unit you ticked is not among your deliveries; reload the page."))
            quantity = self._portal_quantity(quantity, unit)
            order = unit["order"]
            units.append(
                {
                    "product": unit["product"],
                    "serial": unit["serial"],
                    "quantity": quantity,
                    "order": order,
                    "order_ref": order.client_order_ref or order.name,
                    "company": order.company_id,
                }
            )
        units += self._portal_typed_units(partner, typed, returnable)
        if not units:
            raise UserError(self.env._("Tick or type at least one unit to return."))
        serials = [unit["serial"] for unit in units if unit["serial"]]
        if len(serials) != len(set(serials)):
            raise UserError(self.env._("Each serial number or IMEI can be returned once per request."))
        return units

    @api.model
    def _portal_quantity(self, quantity, unit):
        if unit["serial"]:
            return 1.0
        try:
            quantity = float(quantity)
        except (TypeError, ValueError):
            quantity = 0.0
        rounding = unit["product"].uom_id.rounding
        if (
            quantity != quantity  # NaN
            or float_compare(quantity, 0.0, precision_rounding=rounding) <= 0
            or float_compare(quantity, unit["max_qty"], precision_rounding=rounding) > 0
        ):
            raise UserError(
                self.env._(
                    "Return between 0 and %(max)s of %(product)s (what order %(order)s delivered).",
                    max=f"{unit['max_qty']:g}",
                    product=unit["product"].display_name,
                    order=unit["order"].name,
                )
            )
        return quantity

    @api.model
    def _portal_typed_units(self, partner, typed, returnable):
        """Units typed without an order: a serial or IMEI, the customer's order reference, and the product when the
        serial is not one we delivered to them (among the products we delivered to them)."""
        product_by_serial = {unit["serial"]: unit for unit in returnable.values() if unit["serial"]}
        products = {unit["product"].id: unit["product"] for unit in returnable.values()}
        units = []
        for row in typed:
            if not isinstance(row, dict):
                raise ValidationError(self.env._("The request's units are malformed."))
            serial = self._portal_text(row.get("serial"), "serial", MAX_SERIAL_LENGTH)
            order_ref = self._portal_text(row.get("order_ref"), "order_ref", MAX_SERIAL_LENGTH)
            if not serial:
                if order_ref or row.get("product_id"):
                    raise UserError(self.env._("Type the serial number or IMEI of each unit."))
                continue
            known = product_by_serial.get(serial)
            product = known["product"] if known else products.get(self._portal_int(row.get("product_id")))
            if not product:
                raise UserError(
                    self.env._(
                        "Choose the product of %(serial)s: we did not deliver that serial to you.", serial=serial
                    )
                )
            if product.tracking == "none":
                raise UserError(
                    self.env._("%(product)s has no serial number: tick it under its order.", product=product.name)
                )
            company = known["order"].company_id if known else product.company_id or partner.company_id
            units.append(
                {
                    "product": product,
                    "serial": serial,
                    "quantity": 1.0,
                    "order": False,
                    "order_ref": order_ref,
                    "company": company or self.env.company,
                }
            )
        return units

    @api.model
    def _portal_int(self, value):
        return int(value) if isinstance(value, (int, str)) and str(value).isdigit() else 0

    @api.model
    def _portal_text(self, value, name, max_length=MAX_TEXT_LENGTH):
        if value in (None, False):
            return ""
        if not isinstance(value, str) or "\x00" in value:
            raise ValidationError(self.env._("%(field)s: text is expected.", field=name))
        value = value.strip()
        if len(value) > max_length:
            raise UserError(self.env._("%(field)s: at most %(max)s characters, please.", field=name, max=max_length))
        return value

    @api.model
    def _portal_check_files(self, files):
        """[(kind, name, bytes, mimetype)]: each file a PDF, JPEG, PNG or HEIC by its bytes, within the size limit, and
        the user's uploads of the last hour within theirs."""
        files = [file for file in files if file[2]]
        if len(files) > PORTAL_MAX_FILES:
            raise UserError(self.env._("Attach at most %(count)s files.", count=PORTAL_MAX_FILES))
        checked = []
        for kind, name, data in files:
            if kind not in ("proof", "photo"):
                raise ValidationError(self.env._("Unknown kind of file: %(kind)s.", kind=kind))
            name = self._portal_text(name, "file name", 255) or "file"
            if len(data) > PORTAL_MAX_FILE_SIZE:
                raise UserError(
                    self.env._(
                        "%(name)s is larger than %(size)s MB.", name=name, size=PORTAL_MAX_FILE_SIZE // (1024 * 1024)
                    )
                )
            mimetype = proof_mimetype(data)
            if not mimetype:
                raise UserError(
                    self.env._("%(name)s is not a PDF, JPEG, PNG or HEIC file; send one of those.", name=name)
                )
            checked.append((kind, name, data, mimetype))
        if checked:
            limit = self._portal_limit("portal_uploads_per_hour")
            since = fields.Datetime.now() - timedelta(hours=1)
            # As superuser: counts the files the user sent with requests, which they cannot search.
            sent = (
                self.env["ir.attachment"]
                .sudo()
                .search_count(
                    [("res_model", "=", self._name), ("create_uid", "=", self.env.uid), ("create_date", ">=", since)]
                )
            )
            if sent + len(checked) > limit:
                raise UserError(
                    self.env._(
                        "You can send at most %(limit)s files per hour (%(sent)s already sent): please try again"
                        " later.",
                        limit=limit,
                        sent=sent,
                    )
                )
        return checked

    @api.model
    def _portal_responsible(self, partner, company):
        """Who reviews a portal request: the customer's salesperson when they work in Returns, else a Returns
        Manager of the company."""
        salesperson = partner.commercial_partner_id.user_id
        # As superuser (here and below): a portal customer does not read users' groups.
        if salesperson and not salesperson.share and salesperson.sudo().has_group(USER_GROUP):
            return salesperson
        Users = self.env["res.users"].sudo()
        for group in (MANAGER_GROUP, USER_GROUP):
            user = Users.search(
                [("group_ids", "in", self.env.ref(group).ids), ("company_ids", "in", company.ids)], order="id", limit=1
            )
            if user:
                return user
        return self.env.ref("base.user_admin", raise_if_not_found=False) or Users.browse()
