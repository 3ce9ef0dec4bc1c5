import re

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import email_normalize, html2plaintext, html_escape

from .rma_line_checks import is_luhn_valid
from .rma_proof_file import proof_mimetype
from .rma_workflow_guard import server_write

# Words of an e-mail that may be a serial number or an IMEI: letters, digits and dashes, with a digit, 4 to 40 long.
SERIAL_TOKEN = re.compile(r"(?<![\w-])(?=[\w-]*\d)[A-Za-z0-9][A-Za-z0-9-]{2,38}[A-Za-z0-9](?![\w-])")
IMEI_TOKEN = re.compile(r"(?<!\d)\d{15}(?!\d)")
MAIL_PROOF_MAX_BYTES = 10 * 1024 * 1024  # a file of a mail taken as proof of purchase: the API's limit
MAX_TOKENS = 200  # an e-mail is a request, not a price list: past this many candidate words the rest is ignored


class RmaOrder(models.Model):
    """E-mail intake: a mail to a warehouse's Returns alias (stock.warehouse, mail.alias.mixin.optional) creates a
    draft RMA through Odoo's mail gateway (``message_new``); replies thread onto it (``message_update``).

    The gateway calls these methods as superuser, after its own routing and loop protection (bounces, auto-replies
    and mails from the database's own aliases are dropped before; ``mail.gateway.loop.*`` parameters cap the mails
    one sender creates per period). What a mail may change is decided here: only the RMA's own customer adds units
    and proof to a requested RMA; anyone else's reply is logged in the chatter and changes nothing.
    """

    _inherit = "rma.order"

    is_unknown_sender = fields.Boolean(
        string="Unknown Sender",
        readonly=True,
        copy=False,
        help="Requested by e-mail from an address that matches no contact of the company: a contact was created for"
        " it. Check who the customer is before authorizing.",
    )

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------
    def write(self, vals):
        result = super().write(vals)
        if "partner_id" in vals:
            # Staff chose the customer of a request from an unknown address: it is known now.
            flagged = self.filtered("is_unknown_sender")
            if flagged:
                server_write(flagged, {"is_unknown_sender": False})
        return result

    # ------------------------------------------------------------------
    # Mail gateway
    # ------------------------------------------------------------------
    @api.model
    def message_new(self, msg_dict, custom_values=None):
        """A draft RMA from an e-mail: the sender's contact (or a new one, flagged), the subject and body as the
        customer's description, the serials and IMEIs of the text that match units delivered to the customer as
        units. The gateway then posts the mail on it, its attachments becoming the proof of purchase
        (``_message_post_after_hook``). Not ``super()``: Odoo's default writes the subject into the RMA number."""
        self._rma_ensure_mail_gateway()
        values = dict(custom_values or {})
        company = self.env["res.company"].browse(values.get("company_id")) or self.env.company
        email_from = msg_dict.get("email_from") or ""
        partner = self._rma_mail_find_partner(email_from, company)
        # Unknown: no contact has the address, or only the one made for an earlier unknown request (still flagged).
        is_unknown = not partner or bool(
            self.search_count([("partner_id", "=", partner.id), ("is_unknown_sender", "=", True)], limit=1)
        )
        if not partner:
            partner = self.env["mail.thread"]._partner_find_from_emails_single([email_from], no_create=False)[:1]
        text = self._rma_mail_text(msg_dict)
        units = self._rma_mail_units(text, partner.commercial_partner_id, company) if not is_unknown else []
        values.update(
            {
                "company_id": company.id,
                "partner_id": partner.id,
                "reason_id": values.get("reason_id") or self._rma_mail_default_reason(company).id,
                # Not the gateway's user (the sender's own user when they have one, a portal user too): the Returns
                # team takes the request from the Requested list.
                "user_id": values.get("user_id") or False,
                "description": self._rma_mail_description(msg_dict),
                "line_ids": [fields.Command.create(vals) for vals in units],
            }
        )
        rma = self.with_company(company).create(values)
        if is_unknown:
            server_write(rma, {"is_unknown_sender": True})
        rma.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=self.env._("Review the return request"),
            note=self.env._(
                "%(sender)s requested a return by e-mail%(unknown)s.",
                sender=email_from,
                unknown=self.env._(", from an address no contact had: check who the customer is") if is_unknown else "",
            ),
            user_id=self._portal_responsible(partner, company).id,
        )
        proposed = {vals["serial_number"] for vals in units}
        imeis = [
            imei for imei in dict.fromkeys(IMEI_TOKEN.findall(text)) if is_luhn_valid(imei) and imei not in proposed
        ]
        if imeis:
            rma.message_post(
                body=self.env._(
                    "IMEIs in the request that match no unit delivered to this customer: %(imeis)s",
                    imeis=", ".join(imeis[:MAX_TOKENS]),
                ),
                subtype_xmlid="mail.mt_note",
            )
        return rma

    def message_update(self, msg_dict, update_vals=None):
        """A reply, which the gateway then posts on the RMA. From the RMA's own customer while it is requested, the
        serials it names that are not on it yet are added as units (its attachments as proof:
        _message_post_after_hook). From anyone else, it is posted as an internal note for the Returns team, answering
        no message: nobody outside is notified of it (the gateway would ping the author of the message replied to)."""
        self._rma_ensure_mail_gateway()
        result = super().message_update(msg_dict, update_vals=update_vals)
        for rma in self:
            if not rma._rma_mail_is_customer(msg_dict.get("author_id"), msg_dict.get("email_from")):
                # The gateway builds the post from this same dict after message_update.
                msg_dict.update(is_internal=True, parent_id=False)
                continue
            if rma.state != "draft":
                continue
            known = {serial.strip().upper() for serial in rma.line_ids.mapped("serial_number") if serial}
            units = [
                vals
                for vals in self._rma_mail_units(
                    self._rma_mail_text(msg_dict), rma.partner_id.commercial_partner_id, rma.company_id
                )
                if vals["serial_number"].upper() not in known
            ]
            if units:
                rma.write({"line_ids": [fields.Command.create(vals) for vals in units]})
        return result

    def _detect_loop_sender_domain(self, email_from_normalized):
        """The gateway's loop protection counts the RMAs a sender created lately (mail.gateway.loop.*): an RMA has
        no e-mail field of its own, its customer's address is the sender's."""
        return [("partner_id.email_normalized", "=", email_from_normalized)]

    def _message_post_after_hook(self, message, msg_vals):
        """The attachments of the customer's own e-mails to a requested RMA are its proof of purchase."""
        result = super()._message_post_after_hook(message, msg_vals)
        if (
            message.message_type == "email"
            and message.attachment_ids
            and len(self) == 1
            and self.state == "draft"
            and self._rma_mail_is_customer(message.author_id.id, message.email_from)
        ):
            # The portal's and the API's rule: a PDF, JPEG, PNG or HEIC file recognised from its content, not too big.
            proofs = message.attachment_ids.filtered(
                lambda attachment: attachment.file_size <= MAIL_PROOF_MAX_BYTES and proof_mimetype(attachment.raw)
            )
            if proofs:
                self.write({"proof_attachment_ids": [fields.Command.link(attachment.id) for attachment in proofs]})
            others = message.attachment_ids - proofs
            if others:
                self.message_post(
                    body=self.env._(
                        "Not taken as proof of purchase (a proof is a PDF, JPEG, PNG or HEIC file of at most"
                        " %(size)s MB): %(files)s",
                        size=MAIL_PROOF_MAX_BYTES // (1024 * 1024),
                        files=", ".join(others.mapped("name")),
                    ),
                    subtype_xmlid="mail.mt_note",
                )
        return result

    def _ensure_can_be_authorized(self):
        self._ensure_manager()
        unknown = self.filtered("is_unknown_sender")
        if unknown:
            raise UserError(
                self.env._(
                    "%(rmas)s came by e-mail from an address no contact had: choose the customer on the RMA (choosing"
                    " the contact made for it confirms it) before authorizing.",
                    rmas=", ".join(unknown.mapped("display_name")),
                )
            )
        return super()._ensure_can_be_authorized()

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------
    @api.model
    def _rma_ensure_mail_gateway(self):
        """message_new/message_update are public (Odoo's API): only the gateway, which runs them as superuser after its
        routing, may call them; a client forging a mail's author over RPC is refused."""
        if not self.env.su:
            raise AccessError(
                self.env._("Returns are requested and answered by e-mail through the Returns alias only.")
            )

    def _rma_mail_is_customer(self, author_id, email_from):
        """Whether a mail comes from this RMA's customer: its author is one of the customer's contacts, or (a mail
        that created the RMA and its contact) its address is the customer's."""
        self.ensure_one()
        customer = self.partner_id.commercial_partner_id
        author = self.env["res.partner"].browse(author_id or ())
        if author:
            return author.commercial_partner_id == customer
        return bool(email_from) and email_normalize(email_from) == self.partner_id.email_normalized

    @api.model
    def _rma_mail_find_partner(self, email_from, company):
        """The contact of ``company`` (or shared) with the sender's address, the oldest if several."""
        email = email_normalize(email_from)
        if not email:
            return self.env["res.partner"]
        return self.env["res.partner"].search(
            [("email_normalized", "=", email), ("company_id", "in", [company.id, False])], order="id", limit=1
        )

    @api.model
    def _rma_mail_default_reason(self, company):
        """The first return reason of the company (or shared): staff change it on the draft if need be."""
        return self.env["rma.reason"].search([("company_id", "in", [company.id, False])], limit=1)

    @api.model
    def _rma_mail_text(self, msg_dict):
        return f"{msg_dict.get('subject') or ''}\n{html2plaintext(msg_dict.get('body') or '')}"

    @api.model
    def _rma_mail_description(self, msg_dict):
        subject = html_escape(msg_dict.get("subject") or "")
        return f"<p><strong>{subject}</strong></p>{msg_dict.get('body') or ''}"

    @api.model
    def _rma_mail_units(self, text, customer, company):
        """Units to propose for the identifiers of ``text``: each word that names a serial delivered to ``customer``
        (an IMEI product's only if the word is a valid IMEI), once, in the order of the text. The unit's own checks
        then run as for any request."""
        tokens = list(dict.fromkeys(match.group(0) for match in SERIAL_TOKEN.finditer(text)))[:MAX_TOKENS]
        if not tokens or not customer:
            return []
        move_lines = self.env["stock.move.line"].search(
            [
                ("lot_id.name", "in", tokens),
                ("state", "=", "done"),
                ("company_id", "=", company.id),
                ("location_dest_id.usage", "=", "customer"),
                ("move_id.picking_id.partner_id", "child_of", customer.id),
            ]
        )
        product_by_serial = {line.lot_id.name: line.product_id for line in move_lines}
        return [
            {"product_id": product_by_serial[token].id, "serial_number": token}
            for token in tokens
            if token in product_by_serial
            and (product_by_serial[token].rma_identifier_type != "imei" or is_luhn_valid(token))
        ]
