from odoo import http
from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.http import request

from odoo.addons.portal.controllers import portal
from odoo.addons.portal.controllers.portal import pager as portal_pager

from ..models.rma_order_portal import PORTAL_MAX_FILE_SIZE

LABEL_REPORT = "rma_recovery.action_report_rma_label"


class RmaCustomerPortal(portal.CustomerPortal):
    """My Account > Returns: the customer's RMAs, a page per RMA with its units' milestones, its label and its
    chatter. Access is Odoo's: record rules on the customer's commercial partner, or the RMA's access token."""

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "rma_count" in counters:
            Rma = request.env["rma.order"]
            values["rma_count"] = Rma.search_count([], limit=1) if Rma.has_access("read") else 0
        return values

    def _get_rma_searchbar_sortings(self):
        return {
            "date": {"label": request.env._("Newest"), "order": "request_date desc, id desc"},
            "name": {"label": request.env._("RMA Number"), "order": "name asc, id asc"},
            "state": {"label": request.env._("Status"), "order": "state, request_date desc, id desc"},
        }

    def _rma_check_access(self, rma_id, access_token):
        """The RMA as superuser once the user may read it (record rules) or holds its token; 404 otherwise, so that
        nobody learns whether another customer's RMA exists."""
        try:
            return self._document_check_access("rma.order", rma_id, access_token=access_token)
        except (AccessError, MissingError):
            raise request.not_found() from None

    @http.route(["/my/returns", "/my/returns/page/<int:page>"], type="http", auth="user", website=True)
    def portal_my_returns(self, page=1, sortby=None, filterby=None, **kw):
        Rma = request.env["rma.order"]
        values = self._prepare_portal_layout_values()
        searchbar_sortings = self._get_rma_searchbar_sortings()
        sortby = sortby if sortby in searchbar_sortings else "date"
        searchbar_filters = Rma._portal_state_filters()
        filterby = filterby if filterby in searchbar_filters else "all"
        domain = searchbar_filters[filterby]["domain"]
        can_read = Rma.has_access("read")
        pager = portal_pager(
            url="/my/returns",
            url_args={"sortby": sortby, "filterby": filterby},
            total=Rma.search_count(domain) if can_read else 0,
            page=page,
            step=self._items_per_page,
        )
        rmas = (
            Rma.search(
                domain, order=searchbar_sortings[sortby]["order"], limit=self._items_per_page, offset=pager["offset"]
            )
            if can_read
            else Rma
        )
        request.session["my_returns_history"] = rmas.ids[:100]
        values.update(
            {
                # Read as superuser: the record rules chose them, the template shows only what the customer may see.
                "rmas": rmas.sudo(),
                "page_name": "rma",
                "pager": pager,
                "default_url": "/my/returns",
                "searchbar_sortings": searchbar_sortings,
                "sortby": sortby,
                "searchbar_filters": searchbar_filters,
                "filterby": filterby,
                "can_request": not request.env.user._is_public(),
            }
        )
        return request.render("rma_recovery.portal_my_returns", values)

    @http.route(["/my/returns/<int:rma_id>"], type="http", auth="public", website=True)
    def portal_my_return(self, rma_id, access_token=None, **kw):
        rma_sudo = self._rma_check_access(rma_id, access_token)
        lines = rma_sudo.line_ids
        values = {
            "rma": rma_sudo,
            "lines": lines,
            "milestones": lines._portal_milestones(),
            "statuses": lines._portal_statuses(),
            "has_label": rma_sudo._portal_has_label(),
            "attachments": self._rma_attachments(rma_sudo),
            "page_name": "rma",
            "res_company": rma_sudo.company_id,
        }
        values = self._get_page_view_values(rma_sudo, access_token, values, "my_returns_history", False, **kw)
        # The chatter posts with the token: whoever reached the page may read the RMA.
        values["token"] = rma_sudo._portal_ensure_token()
        return request.render("rma_recovery.portal_my_return", values)

    @http.route(["/my/returns/<int:rma_id>/label"], type="http", auth="public", website=True)
    def portal_my_return_label(self, rma_id, access_token=None, download=True, **kw):
        rma_sudo = self._rma_check_access(rma_id, access_token)
        if not rma_sudo._portal_has_label():
            raise request.not_found()
        return self._show_report(model=rma_sudo, report_type="pdf", report_ref=LABEL_REPORT, download=download)

    def _rma_attachments(self, rma_sudo):
        """[(attachment, download URL)]: the proof the customer sent, with a token for visitors who came with the
        RMA's."""
        attachments = rma_sudo.proof_attachment_ids
        tokens = attachments.generate_access_token()
        return [
            (attachment, f"/web/content/{attachment.id}?download=true&access_token={token}")
            for attachment, token in zip(attachments, tokens, strict=True)
        ]

    # ------------------------------------------------------------------
    # Request a return
    # ------------------------------------------------------------------
    @http.route(
        ["/my/returns/new"],
        type="http",
        auth="user",
        methods=["GET", "POST"],
        website=True,
        captcha="rma_request",
    )
    def portal_request_return(self, **post):
        """The request form (GET), and the request with its files (POST, multipart). The model checks everything
        (rma.order._portal_create_request); a refusal shows the form again with its message."""
        partner = request.env.user.partner_id
        Rma = request.env["rma.order"]
        error = None
        if request.httprequest.method == "POST":
            try:
                values, files = self._rma_request_from_form()
                with request.env.cr.savepoint():
                    rma = Rma._portal_create_request(partner, values, files)
                return request.redirect(rma.get_portal_url())
            except (UserError, ValidationError) as exc:
                error = exc.args[0]
        return request.render("rma_recovery.portal_request_return", self._rma_request_values(partner, post, error))

    def _rma_request_from_form(self):
        form = request.httprequest.form
        units = dict.fromkeys(form.getlist("unit"), 1)
        units.update(
            {
                name[4:]: value
                for name, value in form.items()
                if name.startswith("qty_") and value.strip() not in ("", "0")
            }
        )
        typed = [
            {"serial": serial, "order_ref": order_ref, "product_id": product_id}
            for serial, order_ref, product_id in zip(
                form.getlist("typed_serial"),
                form.getlist("typed_order_ref"),
                form.getlist("typed_product_id"),
                strict=False,
            )
        ]
        values = {
            "reason_id": form.get("reason_id"),
            "units": units,
            "typed_units": typed,
            "customer_reference": form.get("customer_reference"),
            "description": form.get("description"),
        }
        files = [
            # One byte past the limit is enough to refuse the file.
            (kind, upload.filename, upload.read(PORTAL_MAX_FILE_SIZE + 1))
            for kind, field in (("proof", "proof"), ("photo", "photos"))
            for upload in request.httprequest.files.getlist(field)
            if upload.filename
        ]
        return values, files

    def _rma_request_values(self, partner, post, error):
        Rma = request.env["rma.order"]
        returnable = Rma._portal_returnable_units(partner)
        units_by_order = {}
        for key, unit in returnable.items():
            units_by_order.setdefault(unit["order"], []).append((key, unit))
        company = next(iter(returnable.values()))["order"].company_id if returnable else request.env.company
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "rma_request",
                "units_by_order": units_by_order,
                "products": list({unit["product"]: True for unit in returnable.values()}),
                "reasons": Rma._portal_reasons(company),
                "error": error,
                "post": post,
                "ticked": set(request.httprequest.form.getlist("unit")) if error else set(),
                "max_file_size_mb": PORTAL_MAX_FILE_SIZE // (1024 * 1024),
            }
        )
        return values
