from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

from .rma_workflow_guard import field_labels, is_server_write, server_write


class RmaLine(models.Model):
    """Remedies that ship: a replacement unit (free of charge, expensed as warranty) or the customer's own unit,
    repaired, shipped back. Each is an ordinary delivery order of the RMA's warehouse, linked to the unit."""

    _inherit = "rma.line"

    replacement_product_id = fields.Many2one(
        "product.product",
        check_company=True,
        domain="[('type', '=', 'consu')]",
        help="Sent in place of the returned unit. Empty: the same product. Part of the remedy: once a manager"
        " confirmed it, it changes only when a manager confirms the remedy again (Confirm Remedy).",
    )
    remedy_move_ids = fields.One2many(
        "stock.move",
        "rma_remedy_line_id",
        string="Remedy Delivery Moves",
        readonly=True,
        help="The unit's replacement or shipment back: one move per unit, and the parts of it split into backorders.",
    )
    remedy_move_id = fields.Many2one(
        "stock.move",
        string="Remedy Delivery Move",
        compute="_compute_remedy_move_id",
        store=True,
        compute_sudo=True,
        copy=False,
        index="btree_not_null",
        help="The replacement unit's delivery, or the repaired unit's shipment back to the customer: the last part"
        " delivered, else the part still to deliver.",
    )
    remedy_picking_id = fields.Many2one(related="remedy_move_id.picking_id", string="Remedy Delivery")
    is_advance_overdue = fields.Boolean(
        string="Advance Remedy Overdue",
        readonly=True,
        copy=False,
        help="Credited or replaced before it arrived, the unit did not arrive in time: its RMA has an activity.",
    )

    @api.depends("remedy_move_ids.state")
    def _compute_remedy_move_id(self):
        for line in self:
            moves = line.remedy_move_ids.sorted("id")
            line.remedy_move_id = (
                moves.filtered(lambda move: move.state == "done")[-1:]
                or moves.filtered(lambda move: move.state != "cancel")[-1:]
                or moves[-1:]
            )

    def write(self, vals):
        self._ensure_replacement_product_open(vals)
        return super().write(vals)

    # ------------------------------------------------------------------
    # Replacement, and shipping a repaired unit back
    # ------------------------------------------------------------------
    def _action_create_replacements(self):
        """A delivery order per RMA with a replacement unit per returned unit; returns the pickings."""
        self._ensure_can_get_remedy("replacement")
        self.company_id._get_rma_warranty_account()
        return self._create_remedy_deliveries(
            lambda line: line.rma_id.warehouse_id.lot_stock_id,
            lambda line: line.replacement_product_id or line.product_id,
        )

    def _action_ship_back(self):
        """The customer's own repaired unit, from graded stock back to them; returns the pickings."""
        self._ensure_can_get_remedy("repair_return")
        not_ready = self.filtered(lambda line: line.state != "ready")
        if not_ready:
            raise UserError(
                self.env._(
                    "%(units)s: a unit is shipped back once it is repaired and in graded stock.",
                    units=", ".join(not_ready.mapped("display_name")),
                )
            )
        return self._create_remedy_deliveries(
            lambda line: line.location_id, lambda line: line.product_id, own_unit=True
        )

    def _create_remedy_deliveries(self, source_of, product_of, own_unit=False):
        """``own_unit``: the unit itself is delivered (reserved by its serial), not any unit of the product."""
        customers = self.env.ref("stock.stock_location_customers")
        picking_vals, moves_by_picking = [], []
        for (rma, source), lines in self.grouped(lambda line: (line.rma_id, source_of(line))).items():
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
                [line._prepare_remedy_move_vals(product_of(line), source, customers) for line in lines]
            )
        pickings = self.env["stock.picking"].sudo().create(picking_vals)
        moves = (
            self.env["stock.move"]
            .sudo()
            .create(
                [
                    {**vals, "picking_id": picking.id}
                    for picking, vals_list in zip(pickings, moves_by_picking, strict=True)
                    for vals in vals_list
                ]
            )
        )
        # One move per unit (stock.move._prepare_merge_moves_distinct_fields): each keeps its unit's link.
        pickings.action_confirm()
        if own_unit:
            moves.move_line_ids.unlink()
            self.env["stock.move.line"].sudo().create(
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
        return pickings.with_env(self.env)

    def _prepare_remedy_move_vals(self, product, source, destination):
        self.ensure_one()
        return {
            "product_id": product.id,
            "product_uom_qty": self._remedy_qty_to_deliver(),
            "product_uom": product.uom_id.id,
            "location_id": source.id,
            "location_dest_id": destination.id,
            "partner_id": self.rma_id.partner_id.id,
            "company_id": self.company_id.id,
            "origin": self.rma_id.name,
            "rma_remedy_line_id": self.id,
        }

    def _remedy_qty_to_deliver(self):
        """What the unit's replacement or shipment back has not delivered yet (all of it before its delivery; the
        rest when a part was delivered and the backorder cancelled)."""
        self.ensure_one()
        # Whoever asks (an accountant need not read stock moves), the delivered moves decide.
        done = self.sudo().remedy_move_ids.filtered(lambda move: move.state == "done")
        # What the moves delivered, not their demand: validated without backorder, a move is done for less.
        delivered = sum(move.product_uom._compute_quantity(move.quantity, move.product_id.uom_id) for move in done)
        to_deliver = (self.quantity_received or self.quantity) - delivered
        return max(self.product_uom_id.round(to_deliver), 0.0)

    # ------------------------------------------------------------------
    # Delivered (stock.move._action_done)
    # ------------------------------------------------------------------
    def _post_remedy_delivery_entries(self, moves):
        """Real-time valuation: a delivery without invoice posts nothing in Odoo 19, so the addon credits the stock
        valuation account at the value Odoo gave the move: a replacement to warranty expense, a repaired unit shipped
        back to cost of goods sold (the original sale stands again; its receipt entry had reversed it)."""
        moves = moves.filtered(
            lambda move: move.product_id.valuation == "real_time" and not move.company_currency_id.is_zero(move.value)
        )
        if not moves:
            return
        for company, company_moves in moves.grouped("company_id").items():
            line_vals, analytic_cache = [], {}
            for move in company_moves:
                line = move.rma_remedy_line_id
                accounts = move.product_id.product_tmpl_id.sudo().with_company(company)._get_product_accounts()
                if line.remedy == "replacement":
                    debit, code = company._get_rma_warranty_account(), "REPLACEMENT"
                else:
                    debit, code = accounts["expense"], "SHIPPED BACK"
                line_vals += line._prepare_entry_line_vals(
                    debit, accounts["stock_valuation"], abs(move.value), line._entry_label(code), move, analytic_cache
                )
            self._create_entry(company, line_vals, ", ".join(company_moves.rma_remedy_line_id.rma_id.mapped("name")))

    # ------------------------------------------------------------------
    # Advance remedies whose unit does not arrive
    # ------------------------------------------------------------------
    @api.model
    def _cron_check_advance_remedies(self):
        """Units credited or replaced before they arrived and still not here after the company's delay: an activity
        for their RMA's responsible, once."""
        for company in self.env["res.company"].search([]):  # pylint: disable=no-search-all
            limit = fields.Datetime.now() - timedelta(days=company.rma_advance_return_days)
            lines = self.search(
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
    def _ensure_replacement_product_open(self, vals):
        """The replacement product is part of the unit's remedy: a client changes it only while the remedy is
        neither confirmed by a manager nor under way (a delivery). After that, only the manager's confirmation of
        the remedy writes it (_action_confirm_remedy, through server_write)."""
        if is_server_write(self.env) or "replacement_product_id" not in vals:
            return
        name = "replacement_product_id"
        decided = self.filtered(
            lambda line: (
                (line.remedy_confirmed_date or line._remedy_started())
                and line._fields[name].convert_to_write(line[name], line) != vals[name]
            )
        )
        if decided:
            raise UserError(
                self.env._(
                    "%(field)s of %(units)s is part of the remedy a manager confirmed (or that is under way): a"
                    " manager changes it by confirming the remedy again.",
                    field=field_labels(self, [name]),
                    units=", ".join(decided.mapped("display_name")),
                )
            )
