"""The JSON-2 API for external systems (e-commerce platforms, an RMS): three public methods of ``rma.order``.

``POST /json/2/rma.order/<method>`` with an API key of a *Returns: Integration* user (docs/API.md). Each call is one
transaction. The arguments are checked here, once, and any bad one is refused with a ValidationError in the
caller's terms (JSON-2 answers 422 with Odoo's error body) before anything is written. The request itself is created
by ``rma.order.create``, the back office's own code and checks. Everything else of this file is private.
"""

import base64
import binascii
import math

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import plaintext2html

from .rma_input_mixin import MAX_AMOUNT
from .rma_proof_file import proof_mimetype
from .rma_workflow_guard import INTEGRATION_GROUP

PROOF_MAX_BYTES = 10 * 1024 * 1024  # a scanned invoice or a few photos (the portal: 5 MB a file, its form limit)
PROOF_MAX_BASE64 = 4 * math.ceil(PROOF_MAX_BYTES / 3)
UNIT_KEYS = {"product", "serial", "quantity", "remedy"}
MAX_UNITS = 100
REFERENCE_MAX_LENGTH = 64
TEXT_MAX_LENGTH = 10000


class RmaOrder(models.Model):
    _inherit = "rma.order"

    external_reference = fields.Char(
        readonly=True,
        copy=False,
        help="The reference an external system gave its request through the API: one RMA per reference, company and"
        " integration user (a replayed request returns this RMA).",
    )

    # One RMA per caller's reference: the index also settles two concurrent submissions of one request.
    _external_reference_uniq = models.UniqueIndex(
        "(company_id, create_uid, external_reference) WHERE external_reference IS NOT NULL",
        "This external reference was already submitted: call api_submit_request again to get its RMA.",
    )

    # ------------------------------------------------------------------
    # The API (docs/API.md)
    # ------------------------------------------------------------------
    @api.model
    def api_submit_request(
        self,
        external_reference: str,
        units: list,
        reason_code: str,
        customer_ref: str | None = None,
        customer_vat: str | None = None,
        order_reference: str | None = None,
        description: str | None = None,
        proof: dict | None = None,
    ) -> dict:
        """Request a return, as the back office does: the RMA is created as *Requested*, its units checked against
        the original shipments, and a Returns Manager decides on it. Idempotent: a request whose
        ``external_reference`` this user already submitted in this company returns that RMA and writes nothing.

        :param external_reference: your reference of the request (at most 64 characters), unique for you.
        :param units: the returned units, at most 100: ``{"product": <internal reference or barcode>,
            "serial": <serial number or IMEI>, "quantity": <for products without serials, 1 by default>,
            "remedy": "refund" | "replacement" | "repair_return" | "none"}``.
        :param reason_code: the code of the return reason (Returns > Configuration > Reasons).
        :param customer_ref: the customer's internal reference in Odoo; give it or ``customer_vat``.
        :param customer_vat: the customer's VAT number as recorded in Odoo (case-insensitive).
        :param order_reference: the order or delivery the units were shipped with: a delivery or sale order of
            the customer named so (or a sale order with this customer reference) is linked; the reference is kept
            as the customer's order reference in any case.
        :param description: the customer's description of the problem, as plain text.
        :param proof: the proof of purchase, ``{"filename": <name>, "data": <base64>}``: a PDF, JPEG, PNG or HEIC
            file of at most 10 MB, recognised from its content.
        :returns: ``{"id", "rma_number", "state", "external_reference", "replayed", "units": [{"id", "product",
            "serial", "quantity", "state"}]}``; ``rma_number`` is false until the RMA is authorized.
        :raises ValidationError: an argument is missing, of the wrong kind, or names nothing known (422).
        :raises AccessError: the user is not a Returns Integration user (403).
        """
        self._api_ensure_integration_user()
        reference = self._api_text(external_reference, "external_reference", REFERENCE_MAX_LENGTH)
        company = self.env.company
        rma = self.search(
            [
                ("external_reference", "=", reference),
                ("create_uid", "=", self.env.uid),
                ("company_id", "=", company.id),
            ],
            limit=1,
        )
        if rma:
            return rma._api_summary(replayed=True)
        vals = self._api_request_vals(
            company, units, reason_code, customer_ref, customer_vat, order_reference, description
        )
        vals["external_reference"] = reference
        attachment_vals = self._api_proof_vals(proof)
        return self._api_create_request(vals, attachment_vals)._api_summary(replayed=False)

    @api.readonly
    def api_status(self, external_references: list | None = None) -> list:
        """The status of RMAs, given by their ``ids`` or by the external references you submitted them with.

        :param external_references: your references of the requests (those of another caller are not found).
        :returns: one dict per RMA: ``{"id", "external_reference", "rma_number", "state", "requested_on",
            "authorized_on", "label_url", "units": [{"id", "product", "serial", "quantity", "state", "remedy",
            "remedy_state", "milestones": {"requested", "authorized", "received", "inspected", "remedy_done",
            "closed"}}]}``. Dates are UTC (``YYYY-MM-DD HH:MM:SS``) or false. ``label_url`` is the label's address
            for a logged-in back-office user once the RMA is authorized (``api_label`` returns the file itself).
        :raises ValidationError: neither ``ids`` nor ``external_references``, or a reference not found (422).
        :raises AccessError: an RMA the user did not submit (or of another company), or the user is not a Returns
            Integration user (403).
        """
        return self._api_records(external_references)._api_status_values()

    def api_label(self, external_reference: str | None = None) -> dict:
        """The authorization and shipping label of one authorized RMA, given by its ``ids`` or your reference.

        :param external_reference: your reference of the request, instead of ``ids``.
        :returns: ``{"rma_number", "filename", "mimetype", "data"}``, ``data`` the PDF in base64.
        :raises UserError: the RMA is not authorized yet: it has no label (422).
        :raises AccessError: an RMA the user did not submit (or of another company), or the user is not a Returns
            Integration user (403).
        """
        references = None if external_reference is None else [external_reference]
        rma = self._api_records(references)
        if len(rma) != 1:
            raise ValidationError(self.env._("api_label prints the label of one RMA at a time."))
        if not rma.name:
            raise UserError(
                self.env._(
                    "%(rma)s is not authorized yet: its label is issued with its RMA number.", rma=rma.display_name
                )
            )
        # The label prints the warehouse's address, which the integration user may not read (no Inventory access);
        # its right to this RMA was checked above.
        report = self.env["ir.actions.report"].sudo()
        content, report_type = report._render_qweb_pdf("rma_recovery.action_report_rma_label", rma.ids)
        return {
            "rma_number": rma.name,
            "filename": f"RMA Label - {rma.name.replace('/', '-')}.{report_type}",
            "mimetype": "application/pdf" if report_type == "pdf" else "text/html",
            "data": base64.b64encode(content).decode(),
        }

    # ------------------------------------------------------------------
    # Arguments, checked once
    # ------------------------------------------------------------------
    def _api_ensure_integration_user(self):
        """The façade is for the dedicated integration user; back-office users work in the back office."""
        if not self.env.user.has_group(INTEGRATION_GROUP):
            raise AccessError(self.env._("The Returns API is open to Returns Integration users only."))

    def _api_records(self, external_references):
        """The RMAs named by ``ids`` or by the caller's own ``external_references``, readable by the caller."""
        self._api_ensure_integration_user()
        self.check_access("read")
        rmas = self
        if external_references is not None:
            if not isinstance(external_references, list) or not external_references:
                raise ValidationError(self.env._("external_references: a list of your references is expected."))
            references = [
                self._api_text(reference, "external_references", REFERENCE_MAX_LENGTH)
                for reference in external_references
            ]
            rmas |= self.search(
                [
                    ("external_reference", "in", references),
                    ("create_uid", "=", self.env.uid),
                    ("company_id", "in", self.env.companies.ids),
                ]
            )
            missing = set(references) - set(rmas.mapped("external_reference"))
            if missing:
                raise ValidationError(
                    self.env._(
                        "No request of yours has the reference %(references)s.", references=", ".join(sorted(missing))
                    )
                )
        if not rmas:
            raise ValidationError(self.env._("Name the RMAs by their ids or by your external_references."))
        return rmas

    @api.model
    def _api_text(self, value, name, max_length=TEXT_MAX_LENGTH, required=True):
        """``value`` stripped, if it is text of at most ``max_length`` characters (else a ValidationError naming
        the argument ``name``); False when it is empty and not ``required``."""
        if value is None or value is False or (isinstance(value, str) and not value.strip()):
            if required:
                raise ValidationError(self.env._("%(name)s is required.", name=name))
            return False
        if not isinstance(value, str) or "\x00" in value or len(value) > max_length:
            raise ValidationError(
                self.env._("%(name)s: text of at most %(max)s characters is expected.", name=name, max=max_length)
            )
        return value.strip()

    @api.model
    def _api_request_vals(self, company, units, reason_code, customer_ref, customer_vat, order_reference, description):
        """The values of the RMA the request describes, in ``company``, checked as a client's create is."""
        customer = self._api_find_customer(company, customer_ref, customer_vat)
        reason_code = self._api_text(reason_code, "reason_code", REFERENCE_MAX_LENGTH)
        reasons = self.env["rma.reason"].search([("code", "=", reason_code), ("company_id", "in", [False, company.id])])
        reason = reasons.filtered("company_id") or reasons  # the company's own before a shared one of that code
        if not reason:
            raise ValidationError(self.env._("No return reason has the code %(code)s.", code=reason_code))
        order_reference = self._api_text(order_reference, "order_reference", REFERENCE_MAX_LENGTH, required=False)
        description = self._api_text(description, "description", required=False)
        vals = {
            "company_id": company.id,
            "partner_id": customer.id,
            "reason_id": reason.id,
            "user_id": False,  # the Returns team takes it from the list of requests
            "customer_reference": order_reference,
            "description": plaintext2html(description) if description else False,
            "line_ids": [Command.create(line_vals) for line_vals in self._api_unit_vals(company, units)],
            **self._api_find_order(company, customer, order_reference),
        }
        # The records the values name were all just found by the searches above: their existence is not queried again.
        self._check_input_values([vals], check_references=False)
        return vals

    @api.model
    def _api_find_customer(self, company, customer_ref, customer_vat):
        ref = self._api_text(customer_ref, "customer_ref", REFERENCE_MAX_LENGTH, required=False)
        vat = self._api_text(customer_vat, "customer_vat", REFERENCE_MAX_LENGTH, required=False)
        if bool(ref) == bool(vat):
            raise ValidationError(self.env._("Give the customer by customer_ref or by customer_vat: one of them."))
        domain = [("ref", "=", ref)] if ref else [("vat", "=ilike", vat.replace(" ", ""))]
        partners = self.env["res.partner"].search([*domain, ("company_id", "in", [False, company.id])])
        if not partners:
            raise ValidationError(
                self.env._("No customer has the internal reference %(ref)s.", ref=ref)
                if ref
                else self.env._("No customer has the VAT number %(vat)s.", vat=vat)
            )
        # A company's contacts share its VAT number: the request is the company's.
        customer = partners if len(partners) == 1 else partners.commercial_partner_id
        if len(customer) > 1:
            raise ValidationError(
                self.env._("Several customers match %(customer)s: ask us to tell them apart.", customer=ref or vat)
            )
        return customer

    @api.model
    def _api_find_order(self, company, customer, order_reference):
        """The delivery or sale order of ``customer`` named ``order_reference``, as the RMA's links (none found:
        the checks match the units by their serials alone, as for a request without an order)."""
        if not order_reference:
            return {}
        # The integration user reads no deliveries nor sale orders: only those of this customer, by exact name.
        env = self.sudo().env
        commercial = customer.commercial_partner_id
        picking = env["stock.picking"].search(
            [
                ("name", "=", order_reference),
                ("company_id", "=", company.id),
                ("picking_type_code", "=", "outgoing"),
                ("state", "=", "done"),
                ("partner_id", "child_of", commercial.id),
            ],
            limit=1,
        )
        if picking:
            return {"picking_id": picking.id, "sale_order_id": picking.sale_id.id}
        order = env["sale.order"].search(
            [
                ("company_id", "=", company.id),
                ("partner_id", "child_of", commercial.id),
                "|",
                ("name", "=", order_reference),
                ("client_order_ref", "=", order_reference),
            ],
            limit=1,
        )
        return {"sale_order_id": order.id} if order else {}

    @api.model
    def _api_unit_vals(self, company, units):
        if not isinstance(units, list) or not units or len(units) > MAX_UNITS:
            raise ValidationError(
                self.env._("units: a list of 1 to %(max)s units is expected.", max=MAX_UNITS),
            )
        for index, unit in enumerate(units):
            if not isinstance(unit, dict):
                raise ValidationError(self.env._("units[%(index)s]: an object is expected.", index=index))
            unknown = set(unit) - UNIT_KEYS
            if unknown:
                raise ValidationError(
                    self.env._(
                        "units[%(index)s]: unknown keys %(keys)s (known: %(known)s).",
                        index=index,
                        keys=", ".join(sorted(map(str, unknown))),
                        known=", ".join(sorted(UNIT_KEYS)),
                    )
                )
        codes = [self._api_text(unit.get("product"), f"units[{index}].product") for index, unit in enumerate(units)]
        products = self.env["product.product"].search(
            [
                "|",
                ("default_code", "in", codes),
                ("barcode", "in", codes),
                ("company_id", "in", [False, company.id]),
            ]
        )
        remedies = dict(self.env["rma.line"]._fields["remedy_requested"].selection)
        vals_list = []
        for index, (unit, code) in enumerate(zip(units, codes, strict=True)):
            matching = products.filtered(lambda product, code=code: code in (product.default_code, product.barcode))
            if len(matching) != 1:
                raise ValidationError(
                    self.env._(
                        "units[%(index)s].product: %(problem)s",
                        index=index,
                        problem=self.env._("no product has the reference or barcode %(code)s.", code=code)
                        if not matching
                        else self.env._("several products have the reference or barcode %(code)s.", code=code),
                    )
                )
            quantity = unit.get("quantity", 1)
            if (
                isinstance(quantity, bool)
                or not isinstance(quantity, (int, float))
                or not math.isfinite(quantity)
                or not 0 < quantity <= MAX_AMOUNT
            ):
                raise ValidationError(
                    self.env._("units[%(index)s].quantity: a positive number is expected.", index=index)
                )
            remedy = unit.get("remedy", "refund")
            if remedy not in remedies:
                raise ValidationError(
                    self.env._(
                        "units[%(index)s].remedy: one of %(remedies)s is expected.",
                        index=index,
                        remedies=", ".join(remedies),
                    )
                )
            vals_list.append(
                {
                    "product_id": matching.id,
                    "serial_number": self._api_text(
                        unit.get("serial"), f"units[{index}].serial", REFERENCE_MAX_LENGTH, required=False
                    ),
                    "quantity": quantity,
                    "remedy_requested": remedy,
                }
            )
        return vals_list

    @api.model
    def _api_proof_vals(self, proof):
        """The proof's attachment values, once its decoded bytes are a PDF, JPEG, PNG or HEIC file within the size
        limit; None without proof."""
        if proof is None or proof is False:
            return None
        if not isinstance(proof, dict) or set(proof) != {"filename", "data"}:
            raise ValidationError(self.env._('proof: {"filename": <name>, "data": <base64>} is expected.'))
        filename = self._api_text(proof["filename"], "proof.filename", 255)
        data = proof["data"]
        if not isinstance(data, str) or not data:
            raise ValidationError(self.env._("proof.data: the file's content in base64 is expected."))
        if len(data) > PROOF_MAX_BASE64:
            raise ValidationError(
                self.env._("proof: the file is larger than %(size)s MB.", size=PROOF_MAX_BYTES // (1024 * 1024))
            )
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError(self.env._("proof.data: this is not base64.")) from None
        mimetype = proof_mimetype(raw)
        if not mimetype:
            raise ValidationError(self.env._("proof: the file is not a PDF, JPEG, PNG or HEIC file."))
        return {"name": filename, "raw": raw, "mimetype": mimetype, "res_model": self._name}

    # ------------------------------------------------------------------
    # The request and its answers
    # ------------------------------------------------------------------
    @api.model
    def _api_create_request(self, vals, attachment_vals):
        """Create the request through ``create``, the back office's code and checks, with its proof attached."""
        # The integration user may not create RMAs but through this façade (no create right: docs/API.md).
        rma = self.sudo().with_context(mail_create_nosubscribe=True).create(vals)
        if attachment_vals:
            attachment = rma.env["ir.attachment"].create({**attachment_vals, "res_id": rma.id})
            rma.proof_attachment_ids = [Command.link(attachment.id)]
        return rma.with_env(self.env)

    def _api_summary(self, replayed):
        self.ensure_one()
        return {
            "id": self.id,
            "rma_number": self.name,
            "state": self.state,
            "external_reference": self.external_reference,
            "replayed": replayed,
            "units": [
                {
                    "id": line.id,
                    "product": line.product_id.default_code or line.product_id.barcode or line.product_id.name,
                    "serial": line.serial_number,
                    "quantity": line.quantity,
                    "state": line.state,
                }
                for line in self.line_ids
            ],
        }

    def _api_status_values(self):
        remedy_dates = self._api_remedy_done_dates()
        statuses = []
        for rma in self:
            status = rma._api_summary(replayed=False)
            del status["replayed"]
            for unit, line in zip(status["units"], rma.line_ids, strict=True):
                unit.update(
                    remedy=line.remedy,
                    remedy_state=line.remedy_state,
                    milestones={
                        "requested": rma.request_date,
                        "authorized": line.authorized_date,
                        "received": line.received_date,
                        "inspected": line.inspection_done_date,
                        "remedy_done": remedy_dates.get(line.id, False),
                        "closed": line.closed_date,
                    },
                )
            status.update(
                requested_on=rma.request_date,
                authorized_on=rma.authorize_date,
                label_url=rma.name and f"{rma.get_base_url()}/report/pdf/rma_recovery.report_rma_label/{rma.id}",
            )
            statuses.append(status)
        return statuses

    def _api_remedy_done_dates(self):
        """{unit id: when its remedy was done}: the credit note's accounting date, or the delivery's date and time."""
        # The integration user reads no invoices nor stock moves: only the date each unit's remedy was done.
        lines = self.line_ids.filtered(lambda line: line.remedy_state == "done").sudo()
        return {
            line.id: line.credit_note_line_id.date if line.remedy == "refund" else line.remedy_move_id.date
            for line in lines
        }
