from collections import defaultdict

from odoo import Command, api, fields, models
from odoo.exceptions import UserError


class RmaLine(models.Model):
    """Refunds: draft customer credit notes made from RMAs, priced from the unit's original invoice or sale line.

    Warehouse staff make the drafts; accountants review and post them (Odoo's own rights on invoices). A credit note
    line never reverses the unit's cost of goods sold: its RMA receipt entry does, once (see account.move).
    """

    _inherit = "rma.line"

    credit_note_line_id = fields.Many2one("account.move.line", readonly=True, copy=False, index="btree_not_null")
    credit_note_id = fields.Many2one(related="credit_note_line_id.move_id", string="Credit Note")
    sale_line_id = fields.Many2one(
        "sale.order.line",
        compute="_compute_sale_line_id",
        compute_sudo=True,
        help="The sale order line the unit was delivered for (or, without a known delivery, the line of its product on"
        " the RMA's sale order): it prices the unit's credit note.",
    )

    @api.depends("delivery_move_id.sale_line_id", "rma_id.sale_order_id.order_line.product_id", "product_id")
    def _compute_sale_line_id(self):
        for line in self:
            line.sale_line_id = (
                line.delivery_move_id.sale_line_id
                or line.rma_id.sale_order_id.order_line.filtered(
                    lambda sale_line, line=line: sale_line.product_id == line.product_id
                )[:1]
            )

    def _action_create_credit_notes(self):
        """One draft credit note per company, customer and currency for these units; returns the credit notes."""
        self._ensure_can_get_remedy("refund")
        self._ensure_can_be_priced()
        pricing = {line: line._credit_pricing() for line in self}
        groups = defaultdict(lambda: self.browse())
        for line in self:
            price = pricing[line]
            groups[line.company_id, line.rma_id.partner_id.commercial_partner_id, price["currency"]] |= line
        vals_list = []
        for (company, partner, currency), lines in groups.items():
            vals_list.append(lines._prepare_credit_note_vals(company, partner, currency, pricing))
        # The drafts are the server's, after the guard: warehouse staff need no rights on invoices to request them.
        credit_notes = self.env["account.move"].sudo().with_context(default_move_type="out_refund").create(vals_list)
        unit_lines = credit_notes.invoice_line_ids.filtered(
            lambda aml: aml.rma_line_id and aml.product_id == aml.rma_line_id.product_id
        )
        for aml in unit_lines:
            # the unit's link, whoever drafts: a billing user may not write units
            aml.rma_line_id.sudo().credit_note_line_id = aml
        for rma, lines in self.grouped("rma_id").items():
            rma.message_post(
                body=self.env._(
                    "Credit note %(credit_notes)s drafted for %(units)s.",
                    credit_notes=", ".join(lines.credit_note_id.mapped("display_name")),
                    units=", ".join(lines.mapped("display_name")),
                )
            )
        return credit_notes.with_env(self.env)

    def _ensure_can_be_priced(self):
        unpriced = self.filtered(lambda line: not line.sale_line_id)
        if unpriced:
            raise UserError(
                self.env._(
                    "%(units)s cannot be credited from here: no sale order line is known for their delivery. Credit"
                    " the customer from their invoice.",
                    units=", ".join(unpriced.mapped("display_name")),
                )
            )

    def _credit_pricing(self):
        """How the unit is credited: its posted invoice line's price, discount, taxes, account, currency and fiscal
        position, or its sale line's when it was not invoiced."""
        self.ensure_one()
        sale_line = self.sale_line_id.sudo()
        invoice_line = sale_line.invoice_lines.filtered(
            lambda aml: aml.move_id.move_type == "out_invoice" and aml.parent_state == "posted"
        )[:1]
        if invoice_line:
            invoice = invoice_line.move_id
            return {
                "currency": invoice.currency_id,
                "fiscal_position": invoice.fiscal_position_id,
                "price_unit": invoice_line.price_unit,
                "discount": invoice_line.discount,
                "taxes": invoice_line.tax_ids,
                "account": invoice_line.account_id,
                "uom": invoice_line.product_uom_id,
                "sale_line": sale_line,
                "invoice": invoice,
            }
        order = sale_line.order_id
        return {
            "currency": order.currency_id,
            "fiscal_position": order.fiscal_position_id,
            "price_unit": sale_line.price_unit,
            "discount": sale_line.discount,
            "taxes": sale_line.tax_ids,
            "account": self.env["account.account"],
            "uom": sale_line.product_uom_id,
            "sale_line": sale_line,
            "invoice": self.env["account.move"],
        }

    def _prepare_credit_note_vals(self, company, partner, currency, pricing):
        rmas = self.rma_id
        fiscal_positions = {pricing[line]["fiscal_position"] for line in self}
        invoices = self.env["account.move"].union(*(pricing[line]["invoice"] for line in self))
        return {
            "move_type": "out_refund",
            "company_id": company.id,
            "partner_id": partner.id,
            "currency_id": currency.id,
            "fiscal_position_id": fiscal_positions.pop().id if len(fiscal_positions) == 1 else False,
            "invoice_origin": ", ".join(rmas.mapped("name")),
            "ref": self.env._("Return %(rmas)s", rmas=", ".join(rmas.mapped("name"))),
            "reversed_entry_id": invoices.id if len(invoices) == 1 else False,
            "invoice_line_ids": [
                Command.create(vals) for line in self for vals in line._prepare_credit_note_line_vals(pricing[line])
            ],
        }

    def _prepare_credit_note_line_vals(self, price):
        """The unit's line, and its restocking-fee line when the inspection made it eligible."""
        self.ensure_one()
        quantity = self.product_uom_id._compute_quantity(self.quantity, price["uom"]) if price["uom"] else self.quantity
        unit_vals = {
            "product_id": self.product_id.id,
            "product_uom_id": (price["uom"] or self.product_uom_id).id,
            "quantity": quantity,
            "price_unit": price["price_unit"],
            "discount": price["discount"],
            "tax_ids": [Command.set(price["taxes"].ids)],
            "name": f"{self.rma_id.name} {self.product_id.display_name} [{self.serial_number or '-'}]",
            "sale_line_ids": [Command.set(price["sale_line"].ids)],
            "rma_line_id": self.id,
        }
        if price["account"]:
            unit_vals["account_id"] = price["account"].id
        vals_list = [unit_vals]
        fee = self._restocking_fee(price, quantity)
        if fee:
            rule = self.inspection_id.restocking_rule_id
            taxes = rule.fee_product_id.taxes_id._filter_taxes_by_company(self.company_id)
            if price["fiscal_position"]:
                taxes = price["fiscal_position"].map_tax(taxes)
            vals_list.append(
                {
                    "product_id": rule.fee_product_id.id,
                    "quantity": 1.0,
                    "price_unit": -fee,
                    "tax_ids": [Command.set(taxes.ids)],
                    "name": self.env._(
                        "Restocking fee: %(rma)s %(serial)s", rma=self.rma_id.name, serial=self.serial_number or ""
                    ),
                    "rma_line_id": self.id,
                }
            )
        return vals_list

    def _restocking_fee(self, price, quantity):
        """The fee the unit's inspection makes it eligible for, in the credit note's currency (0.0 if none)."""
        self.ensure_one()
        rule = self.inspection_id.restocking_rule_id
        if not self.is_restocking_fee_eligible or not rule:
            return 0.0
        currency = price["currency"]
        net = currency.round(price["price_unit"] * (1 - price["discount"] / 100.0) * quantity)
        fee = rule._fee_for(net, currency, self.company_id, fields.Date.context_today(self))
        if currency.is_zero(fee):
            return 0.0
        if currency.compare_amounts(fee, net) > 0:
            raise UserError(
                self.env._(
                    "The restocking fee of %(unit)s (%(fee)s) is above its credited price (%(price)s): check the"
                    " fee rule.",
                    unit=self.display_name,
                    fee=fee,
                    price=net,
                )
            )
        if not rule.fee_product_id:
            raise UserError(
                self.env._(
                    "Set the fee product of the restocking fee rule that applies to %(unit)s.", unit=self.display_name
                )
            )
        return fee
