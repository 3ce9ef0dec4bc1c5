from collections import defaultdict
from datetime import timedelta

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError

from .rma_line import REMEDIES
from .rma_workflow_guard import USER_GROUP, server_create, server_write

# Units that never became the customer's return: no remedy is owed for them.
UNDECIDED_STATES = ("draft", "rejected", "cancel")


class RmaOrder(models.Model):
    """The RMA's remedy step: what the customer gets for its returned units. The RMA owns its credit notes and its
    remedy deliveries (replacements, repaired units shipped back) as a sale order owns its invoices and pickings;
    each step works on the units passed in, batched, and links each document to its unit (rma.line keeps the
    remedy's fields).

    Warehouse staff draft the credit notes; accountants review and post them (Odoo's own rights on invoices). A
    credit note line never reverses the unit's cost of goods sold: its RMA receipt entry does, once (account.move).
    A replacement (free of charge, expensed as warranty) or the customer's own unit, repaired, shipped back, is an
    ordinary delivery order of the RMA's warehouse."""

    _inherit = "rma.order"

    credit_note_ids = fields.Many2many(
        "account.move", compute="_compute_credit_note_ids", string="Credit Notes", compute_sudo=True
    )
    credit_note_count = fields.Integer(compute="_compute_credit_note_ids", compute_sudo=True)
    remedy_picking_ids = fields.One2many("stock.picking", "rma_remedy_id", string="Remedy Deliveries", readonly=True)
    remedy_picking_count = fields.Integer(compute="_compute_remedy_picking_count")
    has_refund_to_do = fields.Boolean(compute="_compute_remedies_to_do")
    has_replacement_to_do = fields.Boolean(compute="_compute_remedies_to_do")
    has_shipment_to_do = fields.Boolean(compute="_compute_remedies_to_do")
    remedy_state = fields.Selection(
        [("none", "No Remedy"), ("pending", "To Do"), ("done", "Done")],
        string="Remedies",
        compute="_compute_remedy_state",
        store=True,
        help="To Do: a unit's credit note is not posted yet, or its replacement or shipment back not delivered.",
    )

    @api.depends("line_ids.credit_note_line_id")
    def _compute_credit_note_ids(self):
        for rma in self:
            rma.credit_note_ids = rma.line_ids.credit_note_id
            rma.credit_note_count = len(rma.credit_note_ids)

    @api.depends("remedy_picking_ids")
    def _compute_remedy_picking_count(self):
        for rma in self:
            rma.remedy_picking_count = len(rma.remedy_picking_ids)

    @api.depends("line_ids.remedy_state")
    def _compute_remedy_state(self):
        for rma in self:
            states = set(rma.line_ids.mapped("remedy_state"))
            rma.remedy_state = "pending" if "pending" in states else "done" if "done" in states else "none"

    @api.depends(
        "line_ids.remedy",
        "line_ids.state",
        "line_ids.remedy_confirmed_date",
        "line_ids.credit_note_line_id",
        "line_ids.remedy_move_ids.state",
        "line_ids.remedy_move_ids.quantity",
    )
    def _compute_remedies_to_do(self):
        for rma in self:
            rma.has_refund_to_do = bool(rma._remedy_candidates("refund"))
            rma.has_replacement_to_do = bool(rma._remedy_candidates("replacement"))
            rma.has_shipment_to_do = bool(rma._remedy_candidates("repair_return"))

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_create_credit_note(self):
        """Draft credit notes for the units of these RMAs to be refunded (one per customer and currency)."""
        self._ensure_rma_user()
        credit_notes = self._create_credit_notes(self._remedy_candidates("refund", strict=True))
        return self._open_credit_notes(credit_notes)

    def action_create_replacement(self):
        self._ensure_rma_user()
        pickings = self._create_replacements(self._remedy_candidates("replacement", strict=True))
        return pickings._get_records_action(name=self.env._("Replacements"))

    def action_ship_back(self):
        self._ensure_rma_user()
        pickings = self._ship_back(self._remedy_candidates("repair_return", strict=True))
        return pickings._get_records_action(name=self.env._("Shipments Back"))

    def action_view_credit_notes(self):
        return self._open_credit_notes(self.credit_note_ids)

    def action_view_remedy_deliveries(self):
        return self.remedy_picking_ids._get_records_action(name=self.env._("Remedy Deliveries"))

    # ------------------------------------------------------------------
    # Confirming the remedy (a manager, once the units are inspected)
    # ------------------------------------------------------------------
    def _confirm_remedy(self, units, remedy, replacement_product=None):
        """A manager confirms (or changes) the ``units``' remedy once they are inspected; for a replacement, with the
        product to send (``replacement_product``; None or empty: each unit keeps its own)."""
        units = units.with_env(self.env)
        self._ensure_can_confirm_remedy(units, remedy)
        labels = dict(units._fields["remedy"]._description_selection(self.env))
        vals = {
            "remedy": remedy,
            "remedy_confirmed_by_id": self.env.uid,
            "remedy_confirmed_date": fields.Datetime.now(),
        }
        if remedy == "replacement" and replacement_product:
            vals["replacement_product_id"] = replacement_product.id
        server_write(units, vals)
        for rma, lines in units.grouped("rma_id").items():
            rma.message_post(
                body=self.env._(
                    "Remedy confirmed: %(remedy)s for %(units)s.",
                    remedy=labels[remedy],
                    units=", ".join(lines.mapped("display_name")),
                )
            )
        return True

    # ------------------------------------------------------------------
    # Refunds: draft credit notes priced from the unit's original invoice or sale line
    # ------------------------------------------------------------------
    def _create_credit_notes(self, units):
        """One draft credit note per company, customer and currency for ``units``; returns the credit notes."""
        units = units.with_env(self.env)
        self._ensure_can_get_remedy(units, "refund")
        self._ensure_can_be_priced(units)
        credit_notes = self._draft_credit_notes(units)
        for aml in credit_notes.invoice_line_ids.filtered(
            lambda aml: aml.rma_line_id and aml.product_id == aml.rma_line_id.product_id
        ):
            server_write(aml.rma_line_id.with_env(self.env), {"credit_note_line_id": aml.id})
        for rma, lines in units.grouped("rma_id").items():
            rma.message_post(
                body=self.env._(
                    "Credit note %(credit_notes)s drafted for %(units)s.",
                    credit_notes=", ".join(lines.credit_note_id.mapped("display_name")),
                    units=", ".join(lines.mapped("display_name")),
                )
            )
        return credit_notes.with_env(self.env)

    def _draft_credit_notes(self, units):
        # As superuser, after the guards: priced from the sale's invoices, drafted for the accountants (warehouse
        # staff need no rights on invoices to request them).
        units = units.sudo()
        pricing = {line: self._credit_pricing(line) for line in units}
        groups = defaultdict(lambda: units.browse())
        for line in units:
            groups[line.company_id, line.rma_id.partner_id.commercial_partner_id, pricing[line]["currency"]] |= line
        vals_list = [
            self._prepare_credit_note_vals(lines, company, partner, currency, pricing)
            for (company, partner, currency), lines in groups.items()
        ]
        return units.env["account.move"].with_context(default_move_type="out_refund").create(vals_list)

    def _ensure_can_be_priced(self, units):
        unpriced = units.filtered(lambda line: not line.sale_line_id)
        if unpriced:
            raise UserError(
                self.env._(
                    "%(units)s cannot be credited from here: no sale order line is known for their delivery. Credit"
                    " the customer from their invoice.",
                    units=", ".join(unpriced.mapped("display_name")),
                )
            )

    def _credit_pricing(self, unit):
        """How ``unit`` is credited: its posted invoice line's price, discount, taxes, account, currency and fiscal
        position, or its sale line's when it was not invoiced."""
        sale_line = unit.sale_line_id
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
            "account": unit.env["account.account"],
            "uom": sale_line.product_uom_id,
            "sale_line": sale_line,
            "invoice": unit.env["account.move"],
        }

    def _prepare_credit_note_vals(self, units, company, partner, currency, pricing):
        rmas = units.rma_id
        fiscal_positions = {pricing[line]["fiscal_position"] for line in units}
        invoices = units.env["account.move"].union(*(pricing[line]["invoice"] for line in units))
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
                Command.create(vals)
                for line in units
                for vals in self._prepare_credit_note_line_vals(line, pricing[line])
            ],
        }

    def _prepare_credit_note_line_vals(self, unit, price):
        """The unit's line, and its restocking-fee line when the inspection made it eligible."""
        quantity = unit.product_uom_id._compute_quantity(unit.quantity, price["uom"]) if price["uom"] else unit.quantity
        unit_vals = {
            "product_id": unit.product_id.id,
            "product_uom_id": (price["uom"] or unit.product_uom_id).id,
            "quantity": quantity,
            "price_unit": price["price_unit"],
            "discount": price["discount"],
            "tax_ids": [Command.set(price["taxes"].ids)],
            "name": f"{unit.rma_id.name} {unit.product_id.display_name} [{unit.serial_number or '-'}]",
            "sale_line_ids": [Command.set(price["sale_line"].ids)],
            "rma_line_id": unit.id,
        }
        if price["account"]:
            unit_vals["account_id"] = price["account"].id
        vals_list = [unit_vals]
        fee = self._restocking_fee(unit, price, quantity)
        if fee:
            rule = unit.inspection_id.restocking_rule_id
            taxes = rule.fee_product_id.taxes_id._filter_taxes_by_company(unit.company_id)
            if price["fiscal_position"]:
                taxes = price["fiscal_position"].map_tax(taxes)
            vals_list.append(
                {
                    "product_id": rule.fee_product_id.id,
                    "quantity": 1.0,
                    "price_unit": -fee,
                    "tax_ids": [Command.set(taxes.ids)],
                    "name": self.env._(
                        "Restocking fee: %(rma)s %(serial)s", rma=unit.rma_id.name, serial=unit.serial_number or ""
                    ),
                    "rma_line_id": unit.id,
                }
            )
        return vals_list

    def _restocking_fee(self, unit, price, quantity):
        """The fee ``unit``'s inspection makes it eligible for, in the credit note's currency (0.0 if none)."""
        rule = unit.inspection_id.restocking_rule_id
        if not unit.is_restocking_fee_eligible or not rule:
            return 0.0
        currency = price["currency"]
        net = currency.round(price["price_unit"] * (1 - price["discount"] / 100.0) * quantity)
        fee = rule._fee_for(net, currency, unit.company_id, fields.Date.context_today(self))
        if currency.is_zero(fee):
            return 0.0
        if currency.compare_amounts(fee, net) > 0:
            raise UserError(
                self.env._(
                    "The restocking fee of %(unit)s (%(fee)s) is above its credited price (%(price)s): check the"
                    " fee rule.",
                    unit=unit.display_name,
                    fee=fee,
                    price=net,
                )
            )
        if not rule.fee_product_id:
            raise UserError(
                self.env._(
                    "Set the fee product of the restocking fee rule that applies to %(unit)s.", unit=unit.display_name
                )
            )
        return fee

    # ------------------------------------------------------------------
    # Remedies that ship: a replacement, or the customer's own unit repaired and shipped back
    # ------------------------------------------------------------------
    def _create_replacements(self, units):
        """A delivery order per RMA with a replacement unit per returned unit; returns the pickings."""
        units = units.with_env(self.env)
        self._ensure_can_get_remedy(units, "replacement")
        units.company_id._get_rma_warranty_account()
        return self._create_remedy_deliveries(
            units,
            lambda line: line.rma_id.warehouse_id.lot_stock_id,
            lambda line: line.replacement_product_id or line.product_id,
        )

    def _ship_back(self, units):
        """The customers' own repaired units, from graded stock back to them; returns the pickings."""
        units = units.with_env(self.env)
        self._ensure_can_get_remedy(units, "repair_return")
        not_ready = units.filtered(lambda line: line.state != "ready")
        if not_ready:
            raise UserError(
                self.env._(
                    "%(units)s: a unit is shipped back once it is repaired and in graded stock.",
                    units=", ".join(not_ready.mapped("display_name")),
                )
            )
        return self._create_remedy_deliveries(
            units, lambda line: line.location_id, lambda line: line.product_id, own_unit=True
        )

    def _create_remedy_deliveries(self, units, source_of, product_of, own_unit=False):
        """``own_unit``: the unit itself is delivered (reserved by its serial), not any unit of the product."""
        customers = self.env.ref("stock.stock_location_customers")
        picking_vals, moves_by_picking = [], []
        for (rma, source), lines in units.grouped(lambda line: (line.rma_id, source_of(line))).items():
            picking_vals.append(
                {
                    "picking_type_id": rma.warehouse_id.out_type_id.id,
                    "partner_id": rma.partner_id.id,
                    "location_id": source.id,
                    "location_dest_id": customers.id,
                    "origin": rma.name,
                    "company_id": rma.company_id.id,
                    "rma_remedy_id": rma.id,
                }
            )
            moves_by_picking.append(
                [self._prepare_remedy_move_vals(line, product_of(line), source, customers) for line in lines]
            )
        # The deliveries and their moves name their RMA and unit (server-owned links), as the Returns user.
        pickings = server_create(self.env["stock.picking"], picking_vals)
        moves = server_create(
            self.env["stock.move"],
            [
                {**vals, "picking_id": picking.id}
                for picking, vals_list in zip(pickings, moves_by_picking, strict=True)
                for vals in vals_list
            ],
        )
        # One move per unit (stock.move._prepare_merge_moves_distinct_fields): each keeps its unit's link.
        pickings.action_confirm()
        if own_unit:
            moves.move_line_ids.unlink()
            self.env["stock.move.line"].create(
                [
                    {
                        "move_id": move.id,
                        "picking_id": move.picking_id.id,
                        **move.rma_remedy_line_id._prepare_unit_move_line_vals(
                            move.location_id, move.location_dest_id, move.product_uom_qty
                        ),
                    }
                    for move in moves
                ]
            )
        else:
            pickings.action_assign()
        for rma, rma_pickings in pickings.grouped("rma_remedy_id").items():
            rma.message_post(
                body=self.env._("Delivery %(pickings)s created.", pickings=", ".join(rma_pickings.mapped("name")))
            )
        return pickings

    def _prepare_remedy_move_vals(self, unit, product, source, destination):
        return {
            "product_id": product.id,
            "product_uom_qty": unit.remedy_qty_to_deliver,
            "product_uom": product.uom_id.id,
            "location_id": source.id,
            "location_dest_id": destination.id,
            "partner_id": unit.rma_id.partner_id.id,
            "company_id": unit.company_id.id,
            "origin": unit.rma_id.name,
            "rma_remedy_line_id": unit.id,
        }

    # ------------------------------------------------------------------
    # Advance remedies whose unit does not arrive
    # ------------------------------------------------------------------
    @api.model
    def _cron_check_advance_remedies(self):
        """Units credited or replaced before they arrived and still not here after the company's delay: an activity
        for their RMA's responsible, once."""
        Line = self.env["rma.line"]
        for company in self.env["res.company"].search([]):  # pylint: disable=no-search-all
            limit = fields.Datetime.now() - timedelta(days=company.rma_advance_return_days)
            lines = Line.search(
                [
                    ("company_id", "=", company.id),
                    ("state", "=", "authorized"),
                    ("is_advance_overdue", "=", False),
                    "|",
                    "&",
                    ("remedy_move_id.state", "=", "done"),
                    ("remedy_move_id.date", "<", limit),
                    "&",
                    ("credit_note_line_id.parent_state", "=", "posted"),
                    ("credit_note_id.invoice_date", "<", limit.date()),
                ]
            )
            for rma, rma_lines in lines.grouped("rma_id").items():
                rma.activity_schedule(
                    "mail.mail_activity_data_todo",
                    summary=self.env._("Returned unit overdue"),
                    note=self.env._(
                        "%(units)s got their remedy in advance and have not arrived after %(days)s days.",
                        units=", ".join(rma_lines.mapped("display_name")),
                        days=company.rma_advance_return_days,
                    ),
                    user_id=rma.user_id.id or self.env.uid,
                )
            server_write(lines, {"is_advance_overdue": True})

    # ------------------------------------------------------------------
    # Guards
    # ------------------------------------------------------------------
    def _ensure_rma_user(self):
        if not self.env.user.has_group(USER_GROUP):
            raise AccessError(self.env._("Only Returns users can create the remedies of RMAs."))

    def _ensure_can_confirm_remedy(self, units, remedy):
        units.rma_id._ensure_manager()
        if remedy not in dict(REMEDIES):
            raise UserError(self.env._("Choose a remedy: refund, replacement, repair and return, or none."))
        if not units:
            raise UserError(self.env._("Select the units whose remedy to confirm."))
        not_inspected = units.filtered(lambda line: not line.inspection_done_date)
        if not_inspected:
            raise UserError(
                self.env._(
                    "The remedy is confirmed once the unit is inspected: %(units)s.",
                    units=", ".join(not_inspected.mapped("display_name")),
                )
            )
        started = units.filtered("is_remedy_started")
        if started:
            raise UserError(
                self.env._(
                    "%(units)s already got their remedy (a credit note or a delivery): cancel that document first.",
                    units=", ".join(started.mapped("display_name")),
                )
            )

    def _ensure_can_get_remedy(self, units, remedy):
        """``units`` may get ``remedy`` now: it is theirs, they are authorized and not remedied yet, and the remedy is
        confirmed after inspection unless the customer is allowed advance remedies."""
        label = dict(units._fields["remedy"]._description_selection(self.env))[remedy]
        if not units:
            raise UserError(self.env._("No unit of these RMAs is to get a %(remedy)s.", remedy=label))

        def names(lines):
            return ", ".join(lines.mapped("display_name"))

        undecided = units.filtered(lambda line: line.state in UNDECIDED_STATES)
        if undecided:
            raise UserError(
                self.env._(
                    "%(units)s: only units of authorized RMAs get a remedy (not requested, rejected or cancelled"
                    " ones).",
                    units=names(undecided),
                )
            )
        other = units.filtered(lambda line: line.remedy != remedy)
        if other:
            raise UserError(
                self.env._("%(units)s: their remedy is not a %(remedy)s.", units=names(other), remedy=label)
            )
        substitutions = units.filtered("is_substitution")
        if substitutions:
            raise UserError(
                self.env._(
                    "%(units)s arrived in place of the authorized unit: resolve the substitution first.",
                    units=names(substitutions),
                )
            )
        started = units.filtered(lambda line: not line.is_remedy_due)
        if started:
            raise UserError(self.env._("%(units)s already got their %(remedy)s.", units=names(started), remedy=label))
        credited = units.filtered("is_cogs_reversed_by_refund") if remedy == "refund" else units.browse()
        if credited:
            raise UserError(
                self.env._(
                    "%(units)s were credited before their RMA (a credit note of their sale order or invoice).",
                    units=names(credited),
                )
            )
        unconfirmed = units.filtered(
            lambda line: not line.remedy_confirmed_date and not (remedy != "repair_return" and line.is_advance_remedy)
        )
        if unconfirmed:
            raise UserError(
                self.env._(
                    "%(units)s: a manager confirms the remedy once the unit is inspected (customers allowed advance"
                    " remedies are credited or replaced before).",
                    units=names(unconfirmed),
                )
            )

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------
    def _remedy_candidates(self, remedy, strict=False):
        """The units of these RMAs to get ``remedy`` now. ``strict``: when none is, those that would but for their
        confirmation or status, so that the guard says why."""
        lines = self.line_ids.filtered(
            lambda line: line.remedy == remedy and line.state not in UNDECIDED_STATES and line.is_remedy_due
        )
        ready = lines.filtered(
            lambda line: line.remedy_confirmed_date or (remedy != "repair_return" and line.is_advance_remedy)
        )
        if remedy == "repair_return":
            ready = ready.filtered(lambda line: line.state == "ready")
        return lines if strict and not ready else ready

    def _open_credit_notes(self, credit_notes):
        if not credit_notes.has_access("read"):
            return {
                "type": "ir.actions.client",
                "tag": "display_notification",
                "params": {
                    "type": "success",
                    "message": self.env._(
                        "Credit note %(names)s drafted: the accountants review and post it.",
                        names=", ".join(credit_notes.sudo().mapped("display_name")),
                    ),
                    "next": {"type": "ir.actions.act_window_close"},
                },
            }
        action = self.env["ir.actions.act_window"]._for_xml_id("account.action_move_out_refund_type")
        if len(credit_notes) == 1:
            action.update(views=[(False, "form")], res_id=credit_notes.id)
        else:
            action["domain"] = [("id", "in", credit_notes.ids)]
        return action
