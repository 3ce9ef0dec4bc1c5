from odoo import Command, fields, models
from odoo.exceptions import UserError

from .rma_line import DISPOSITION_FIELDS
from .rma_vendor_return import RmaVendorWarranty
from .rma_workflow_guard import server_write


class ProductSupplierinfo(models.Model):
    _inherit = "product.supplierinfo"

    rma_warranty_months = fields.Integer(
        string="Vendor Warranty (Months)",
        help="How long after its receipt a unit bought from this vendor goes back to them under warranty (RTV)."
        " Empty: the product category's.",
    )


class ProductCategory(models.Model):
    _inherit = "product.category"

    rma_vendor_warranty_months = fields.Integer(
        string="Vendor Warranty (Months)",
        help="Default vendor warranty of the category's products, when the vendor's product info has none (RTV).",
    )


class ResCompany(models.Model):
    _inherit = "res.company"

    rma_vendor_claims_account_id = fields.Many2one(
        "account.account",
        string="Vendor Claims Account",
        check_company=True,
        help="Asset: the book value of units shipped back to their vendor under warranty, until the vendor credits"
        " or replaces them (real-time valuation).",
    )

    def _rma_setup_accounts(self):
        result = super()._rma_setup_accounts()
        for company in self.filtered(lambda company: not company.rma_vendor_claims_account_id):
            accounts = self.env["account.account"].with_company(company)
            domain = accounts._check_company_domain(company)
            last = accounts.search([*domain, ("account_type", "=", "asset_current")], order="code desc", limit=1)
            company.rma_vendor_claims_account_id = accounts.create(
                {
                    "name": self.env._("Vendor Claims"),
                    "code": accounts._search_new_account_code(last.code or "9990"),
                    "account_type": "asset_current",
                    "reconcile": True,
                    "company_ids": [Command.link(company.id)],
                }
            )
        return result

    def _get_rma_vendor_claims_account(self):
        self.ensure_one()
        if not self.rma_vendor_claims_account_id:
            raise UserError(
                self.env._(
                    "Set the Vendor Claims account of %(company)s (Inventory > Configuration > Settings, Returns) to"
                    " return units to their vendor.",
                    company=self.name,
                )
            )
        return self.rma_vendor_claims_account_id

    def _rma_vendor_return_sequence(self):
        """The company's VRMA/<year>/ sequence, created on first use for companies made before it existed."""
        self.ensure_one()
        # sudo: configuration, the company's own numbering of vendor RMAs
        sequences = self.env["ir.sequence"].sudo()
        sequence = sequences.search([("code", "=", "rma.vendor.return"), ("company_id", "=", self.id)], limit=1)
        return sequence or sequences.create(
            {
                "name": self.env._("Vendor RMA (%(company)s)", company=self.name),
                "code": "rma.vendor.return",
                "prefix": "VRMA/%(year)s/",
                "padding": 5,
                "company_id": self.id,
            }
        )


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    rma_vendor_claims_account_id = fields.Many2one(related="company_id.rma_vendor_claims_account_id", readonly=False)


class RmaLine(models.Model):
    _inherit = "rma.line"

    vendor_return_line_ids = fields.One2many(
        "rma.vendor.return.line", "unit_id", string="Vendor Returns", readonly=True
    )
    vendor_return_id = fields.Many2one(
        "rma.vendor.return",
        string="Vendor RMA",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The vendor RMA the unit was last sent back on (return to vendor, RTV).",
    )
    vendor_answer = fields.Selection(related="vendor_return_line_ids.answer", string="Vendor's Answer")

    def action_view_vendor_return(self):
        self.ensure_one()
        return self.vendor_return_id._get_records_action(name=self.env._("Vendor RMA"))

    def _rtv_link(self, vendor_lines):
        for vendor_return, lines in vendor_lines.grouped("vendor_return_id").items():
            server_write(lines.unit_id, {"vendor_return_id": vendor_return.id})

    def _rtv_purchase_moves(self):
        """{unit: the purchase receipt move of its serial}: an incoming done move from a vendor's location that
        names a purchase line, the latest one (one search for all the units)."""
        lots = self.lot_id
        if not lots:
            return {}
        # sudo: purchases are read to decide the disposition, whoever decides it (a returns manager need not read POs)
        move_lines = (
            self.env["stock.move.line"]
            .sudo()
            .search(
                [
                    ("lot_id", "in", lots.ids),
                    ("state", "=", "done"),
                    ("location_id.usage", "=", "supplier"),
                    ("move_id.purchase_line_id", "!=", False),
                ],
                order="date desc, id desc",
            )
        )
        move_by_lot = {}
        for move_line in move_lines:
            move_by_lot.setdefault(move_line.lot_id, move_line.move_id)
        return {unit: move_by_lot[unit.lot_id].with_env(self.env) for unit in self if unit.lot_id in move_by_lot}

    def _rtv_blocker(self):
        """Why the unit cannot go back to its vendor (None when it can): bought from a vendor and still under the
        vendor's warranty."""
        self.ensure_one()
        purchase = self._rtv_purchase_moves().get(self)
        if not purchase:
            return self.env._(
                "%(unit)s cannot be returned to a vendor: its serial was not received from a vendor on a purchase"
                " order.",
                unit=self.display_name,
            )
        vendor = purchase.sudo().purchase_line_id.order_id.partner_id  # sudo: the PO's vendor, for whoever disposes
        months = RmaVendorWarranty.months(self.product_id, vendor, self.company_id)
        end = RmaVendorWarranty.end_date(purchase.date, months)
        if not end or end < fields.Date.context_today(self):
            return self.env._(
                "%(unit)s is out of %(vendor)s's warranty (received %(date)s, %(months)s months): it cannot be returned"
                " to the vendor.",
                unit=self.display_name,
                vendor=vendor.display_name,
                date=fields.Date.to_date(purchase.date),
                months=months,
            )
        return None

    def _rtv_back_to_inspection(self, note):
        """The vendor rejected the claim: the unit's disposition is undone and it waits in inspection."""
        server_write(self, dict.fromkeys(DISPOSITION_FIELDS, False))
        self._transition("inspection", note=note)


class RmaDispositionBatchLine(models.Model):
    _inherit = "rma.disposition.batch.line"

    def _ensure_can_be_disposed(self):
        """RTV: only units bought from a vendor and under its warranty, refused before anything is written."""
        for line in self.filtered(lambda line: line.disposition_id.treatment == "vendor"):
            blocker = line.unit_id._rtv_blocker()
            if blocker:
                raise UserError(blocker)
            if line.unit_id.product_id.valuation == "real_time":
                line.unit_id.company_id._get_rma_vendor_claims_account()
        return super()._ensure_can_be_disposed()


class RmaDispositionBatch(models.Model):
    _inherit = "rma.disposition.batch"

    def _dispose_lines(self, lines):
        result = super()._dispose_lines(lines)
        vendor_units = lines.filtered(lambda line: line.disposition_id.treatment == "vendor").unit_id
        self.env["rma.vendor.return"]._add_units(vendor_units)
        return result


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    rma_vendor_line_id = fields.Many2one(
        "rma.vendor.return.line",
        string="Vendor RMA Unit",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The unit of a vendor RMA this vendor credit note line credits.",
    )

    def _eligible_for_stock_account(self):
        # A returned unit's credit clears Vendor Claims, not stock (its value left stock when it was shipped).
        return not self.rma_vendor_line_id and super()._eligible_for_stock_account()

    def _compute_account_id(self):  # pylint: disable=missing-return
        super()._compute_account_id()
        for line in self.filtered(
            lambda line: (
                line.rma_vendor_line_id
                and line.move_id.move_type == "in_refund"
                and line.product_id.valuation == "real_time"
            )
        ):
            line.account_id = line.company_id.rma_vendor_claims_account_id or line.account_id


class AccountMove(models.Model):
    _inherit = "account.move"

    def _post(self, soft=True):
        # No context key decides it: only the addon's vendor credit notes hold rma_vendor_line_id (server-owned, not
        # copied), and their cancelling reversals are vendor bills, which _rma_vendor_claim_difference_vals skips.
        self.env["account.move.line"].create(self._rma_vendor_claim_difference_vals())
        return super()._post(soft)

    def _rma_vendor_claim_difference_vals(self):
        """A vendor credit note of units sent back clears Vendor Claims of the value sent: the difference between the
        credited price and that value goes to the price difference account (else the product's expense account),
        as Odoo's price difference lines (display_type cogs, removed when the credit note is reset to draft)."""
        vals_list = []
        for move in self.filtered(lambda move: move.move_type == "in_refund"):
            for line in move.invoice_line_ids.filtered(
                lambda line: (
                    line.rma_vendor_line_id
                    and line.product_id.valuation == "real_time"
                    and line.account_id == line.company_id.rma_vendor_claims_account_id
                )
            ):
                # the credited value (balance < 0 on a vendor credit note) against the value sent
                # sudo: the value sent, for the accountant posting who need not read vendor RMAs
                difference = -line.balance - line.rma_vendor_line_id.sudo().value_sent
                if line.company_currency_id.is_zero(difference):
                    continue
                product = line.product_id.with_company(line.company_id)
                pdiff = (
                    product.categ_id.property_price_difference_account_id
                    or product.product_tmpl_id._get_product_accounts()["expense"]
                )
                common = {
                    "name": line.name and line.name[:64],
                    "move_id": move.id,
                    "partner_id": line.partner_id.id or move.commercial_partner_id.id,
                    "product_id": line.product_id.id,
                    "product_uom_id": line.product_uom_id.id,
                    "quantity": line.quantity,
                    "display_type": "cogs",
                }
                vals_list += [
                    {**common, "balance": difference, "account_id": line.account_id.id},
                    {**common, "balance": -difference, "account_id": pdiff.id},
                ]
        return vals_list
