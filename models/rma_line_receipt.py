from odoo import Command, api, fields, models
from odoo.exceptions import UserError

from .rma_workflow_guard import server_owned, server_write

RECEIVABLE_RMA_STATES = ("authorized", "in_progress")


class RmaLine(models.Model):
    """Receipt of a returned unit: its move in the RMA's receipt, validated when the unit is scanned in, and the
    units that arrive in place of an authorized one (suspected substitutions)."""

    _inherit = "rma.line"

    received_date = fields.Datetime(string="Received On", readonly=True, copy=False)
    received_by_id = fields.Many2one(
        "res.users", readonly=True, copy=False, help="The technician who scanned the unit in."
    )
    receipt_station = fields.Char(readonly=True, copy=False, help="The scanning station that received the unit.")
    quantity_received = fields.Float(digits="Product Unit", readonly=True, copy=False)
    receipt_value = fields.Monetary(
        currency_field="currency_id",
        compute="_compute_receipt_value",
        help="The value Odoo gave the unit when it was received (its original cost).",
    )
    is_substitution = fields.Boolean(
        string="Substitution Suspected",
        readonly=True,
        copy=False,
        help="A unit that arrived on this RMA but is not one of the units authorized: held for a manager,"
        " received without reference to any original delivery.",
    )

    @api.depends("receipt_move_ids.value")
    def _compute_receipt_value(self):
        for line in self:
            line.receipt_value = sum(line._receipt_moves().mapped("value"))

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_accept_substitution(self):
        """A manager accepts a unit that arrived in place of an authorized one; it may then be inspected."""
        self.rma_id._ensure_manager()
        if not all(self.mapped("is_substitution")):
            raise UserError(self.env._("Only units held as suspected substitutions can be accepted."))
        server_write(self, {"is_substitution": False})
        self._value_accepted_substitutions()
        note = self.env._("Substitution accepted by %(user)s", user=self.env.user.name)
        self.env["rma.custody.event"]._log(self, "status", note=note)
        for rma, lines in self.grouped("rma_id").items():
            rma.message_post(
                body=self.env._("%(note)s: %(units)s", note=note, units=", ".join(lines.mapped("serial_number")))
            )
        return True

    # ------------------------------------------------------------------
    # Receipt
    # ------------------------------------------------------------------
    def _action_receive(self, station=False, scanned_codes=None, quantity=None):
        """Receive the units into their warehouse's quarantine: each unit's move in its RMA's receipt is validated
        on its own, in one batch for all the units.

        ``scanned_codes``: {line id: code scanned}; ``quantity``: for one untracked line, how many came in.
        The receipt stays open for the units still expected: a parcel received in several scans completes one
        document instead of leaving a chain of backorders, and the RMA number keeps naming one receipt.
        Serial units keep their original delivery (so Odoo values the receipt at the original cost), except
        suspected substitutions, which are received without it.
        """
        self._lock_units()  # two scans of one unit at once: the second waits, then finds it received
        self._ensure_can_be_received(quantity)
        scanned_codes = scanned_codes or {}
        self._create_missing_lots()
        moves = self._prepare_receipt_moves(quantity)
        origins = moves.origin_returned_move_id
        # Each delivery's valued quantity, computed once for the batch (see stock.move._get_valued_qty).
        valued_qty = {origin.id: origin._get_valued_qty() for origin in origins}
        self._validate_unit_moves(moves, valued_qty=valued_qty)
        moves.picking_id._rma_date_completed_receipts()
        self._hold_substitutions_at_zero(moves)

        now = fields.Datetime.now()
        complete = self.browse()
        for line, move in zip(server_owned(self), moves, strict=True):
            line.quantity_received += move.quantity
            line.location_id = move.location_dest_id
            if line.tracking == "serial" or line.quantity_received >= line.quantity:
                complete |= line
        server_write(complete, {"received_date": now, "received_by_id": self.env.uid, "receipt_station": station})
        complete._transition("received")
        received = moves.rma_line_id
        for scanned_code, units in received.grouped(lambda line: scanned_codes.get(line.id) or False).items():
            self.env["rma.custody.event"]._log(
                units,
                "receipt",
                location={move.rma_line_id: move.location_id for move in moves},
                destination={move.rma_line_id: move.location_dest_id for move in moves},
                note={line: self.env._("Substitution suspected") for line in units if line.is_substitution},
                station=station,
                scanned_code=scanned_code,
            )
        # Last: the RMA journal's next number is held from its posting to the commit, concurrent receipts wait on it.
        self._post_receipt_entries(moves)
        return moves

    def _prepare_receipt_moves(self, quantity=None):
        """Each unit's move in its RMA's receipt, in the order of ``self``, set to what arrived: the unit's
        serial, picked. A unit without one (a substitution) gets its own move in the receipt. An untracked unit
        received in part leaves the rest in the receipt as a move of its own, still expected."""
        pending = self._pending_receipt_moves()
        missing = self.filtered(lambda line: line not in pending)
        if missing:
            pickings = missing.rma_id._get_receipt_pickings()
            new_moves = self._create_unit_moves(
                [line._prepare_receipt_move_vals(pickings[line.rma_id]) for line in missing]
            )
            new_moves._action_confirm(merge=False)
            pending.update(zip(missing, new_moves, strict=True))
        moves = self.env["stock.move"].concat(*(pending[line] for line in self))
        quantities = {
            line: 1.0 if line.tracking == "serial" else (quantity or line.quantity - line.quantity_received)
            for line in self
        }
        # What arrived is the move's line of what was expected (made with the move), picked:
        # one write for the batch. A line that differs (a serial unknown until now, an untracked unit received in
        # part) is completed first, line by line: Odoo's move-line write checks each on its own.
        lines_by_move = moves.sudo().move_line_ids.grouped("move_id")
        expected = extra = self.env["stock.move.line"].sudo()
        new_line_vals = []
        for line in self:
            move_lines = lines_by_move.get(pending[line], expected.browse())
            if not move_lines:
                # The expected line was removed (unreserved in Inventory): what arrived gets its own.
                move = pending[line]
                new_line_vals.append(
                    {
                        **line._prepare_unit_move_line_vals(move.location_id, move.location_dest_id, quantities[line]),
                        "move_id": move.id,
                        "picking_id": move.picking_id.id,
                        "picked": True,
                    }
                )
                continue
            first = move_lines[0]
            if first.lot_id != line.lot_id or first.product_uom_id.compare(first.quantity, quantities[line]):
                first.write({"lot_id": line.lot_id.id, "quantity": quantities[line]})
            extra |= move_lines - first
            expected |= first
        extra.unlink()
        expected.write({"picked": True})
        self.env["stock.move.line"].sudo().create(new_line_vals)
        # Picked lines make the moves picked (stock.move._compute_picked).
        partial = moves.filtered(lambda move: move.product_uom.compare(move.quantity, move.product_uom_qty) < 0)
        if partial:
            # stock.move's own split: the rest stays in the same receipt (no backorder picking), still expected.
            partial.sudo()._create_backorder()._action_assign()
        return moves

    def _pending_receipt_moves(self):
        """{unit: its move in its RMA's receipt, not yet done}."""
        return {
            move.rma_line_id: move
            for move in self.receipt_move_ids
            if move.picking_id.rma_id and move.state not in ("done", "cancel")
        }

    def _receipt_moves(self):
        """The moves that brought the units in from the customer."""
        return self.receipt_move_ids.filtered(
            lambda move: move.location_id.usage == "customer" and move.state == "done"
        )

    def _value_accepted_substitutions(self):
        """Accounting contract: an accepted substitution is re-linked to the delivery of the serial that came in
        (when we shipped it), revalued by Odoo from it (or from the product's cost), and posts its receipt entry."""
        receipts = self._receipt_moves()
        deliveries = self.env["stock.move.line"].search(
            [
                ("lot_id", "in", self.lot_id.ids),
                ("state", "=", "done"),
                ("location_dest_id.usage", "=", "customer"),
                ("move_id.is_out", "=", True),
            ],
            order="date desc, id desc",
        )
        latest_delivery = {}
        for move_line in deliveries:
            latest_delivery.setdefault(move_line.lot_id, move_line.move_id)
        for move in receipts:
            origin = latest_delivery.get(move.rma_line_id.lot_id)
            if origin:
                # As authorized units are: valued from the delivery, and the sale order's delivered quantity
                # goes down.
                move.sudo().write(
                    {"origin_returned_move_id": origin.id, "sale_line_id": origin.sale_line_id.id, "to_refund": True}
                )
        held = self.env["product.value"].sudo().search([("move_id", "in", receipts.ids)])
        held.unlink()
        receipts.sudo()._set_value()
        self._post_receipt_entries(receipts)

    def _hold_substitutions_at_zero(self, moves):
        """A suspected substitution enters stock at zero value until a manager resolves it (accounting contract)."""
        held = moves.filtered(lambda move: move.rma_line_id.is_substitution and move.value)
        self.env["product.value"].sudo().create(
            [{"move_id": move.id, "value": 0.0, "company_id": move.company_id.id} for move in held]
        )

    def _ensure_can_be_received(self, quantity=None):
        for line in self:
            if line.rma_id.state not in RECEIVABLE_RMA_STATES:
                raise UserError(
                    self.env._(
                        "%(rma)s is %(state)s: only authorized RMAs can be received.",
                        rma=line.rma_id.display_name,
                        state=dict(line.rma_id._fields["state"]._description_selection(self.env))[line.rma_id.state],
                    )
                )
            if line.state != "authorized":
                raise UserError(self.env._("%(unit)s was already received.", unit=line.display_name))
            if not line.rma_id.warehouse_id.rma_quarantine_location_id:
                raise UserError(
                    self.env._(
                        "Warehouse %(warehouse)s has no Returns Quarantine location.",
                        warehouse=line.rma_id.warehouse_id.display_name,
                    )
                )
            remaining = line.quantity - line.quantity_received
            if line.tracking != "serial" and (quantity or remaining) > remaining:
                raise UserError(
                    self.env._(
                        "Only %(remaining)s %(uom)s of %(product)s are still expected on %(rma)s.",
                        remaining=remaining,
                        uom=line.product_uom_id.name,
                        product=line.product_id.display_name,
                        rma=line.rma_id.display_name,
                    )
                )
        self._ensure_serials_receivable()

    def _ensure_serials_receivable(self):
        """A serial already in the company's stock, or still open on another RMA, is not received (again): the
        unit in hand is not the one the customer shipped back, or it is expected on the other RMA."""
        serial_lines = self.filtered(lambda line: line.tracking == "serial")
        self._check_serials_receivable(
            [(line.lot_id, line.product_id, (line.serial_number or "").strip()) for line in serial_lines],
            serial_lines.company_id,
            serial_lines.rma_id,
        )

    @api.model
    def _check_serials_receivable(self, units, companies, rmas):
        """``units``: (lot, product, serial) arriving on ``rmas`` (see _ensure_serials_receivable)."""
        lots = self.env["stock.lot"].union(*(lot for lot, _product, _serial in units))
        if lots:
            in_stock = (
                self.env["stock.quant"]
                .sudo()
                ._read_group(
                    [
                        ("lot_id", "in", lots.ids),
                        ("location_id.usage", "in", ("internal", "transit")),
                        ("company_id", "in", companies.ids),
                        ("quantity", ">", 0),
                    ],
                    ["lot_id"],
                )
            )
            if in_stock:
                raise UserError(
                    self.env._(
                        "%(serials)s is already in our stock: it cannot be received again. Nothing was recorded.",
                        serials=", ".join(lot.name for [lot] in in_stock),
                    )
                )
        if not units:
            return
        others = self.sudo().search(
            [
                ("rma_id", "not in", rmas.ids),
                ("state", "not in", ("closed", "rejected", "cancel")),
                ("product_id", "in", [product.id for _lot, product, _serial in units]),
                ("serial_number", "in", [serial for _lot, _product, serial in units]),
            ]
        )
        open_elsewhere = {(other.product_id, other.serial_number.strip()): other for other in others}
        for _lot, product, serial in units:
            other = open_elsewhere.get((product, serial))
            if other:
                raise UserError(
                    self.env._(
                        "%(serial)s is open on %(rma)s: receive it there. Nothing was recorded.",
                        serial=serial,
                        rma=other.rma_id.display_name,
                    )
                )

    def _create_missing_lots(self):
        """Units whose serial was unknown (and overridden) get their lot when they physically arrive."""
        missing = self.filtered(lambda line: line.tracking == "serial" and not line.lot_id)
        if not missing:
            return
        # The unit's serial is a fact the receipt establishes (after its guard): written by the server, whoever scans.
        lots = (
            self.env["stock.lot"]
            .sudo()
            .create(
                [
                    {
                        "product_id": line.product_id.id,
                        "name": line.serial_number.strip(),
                        "company_id": line.company_id.id,
                    }
                    for line in missing
                ]
            )
        )
        for line, lot in zip(server_owned(missing), lots, strict=True):
            line.lot_id = lot

    def _prepare_receipt_move_vals(self, picking):
        """The unit's move in ``picking``, its RMA's receipt, with the line of what is expected (the serial the RMA
        knows, the quantity), which a scan then confirms. Linked to the original delivery and its sale line as
        Odoo's own returns are (valued at the original cost, the delivered quantity goes down once received),
        except a suspected substitution, received without either."""
        self.ensure_one()
        origin_move = self.delivery_move_id if not self.is_substitution else self.env["stock.move"]
        quantity = 1.0 if self.tracking == "serial" else self.quantity - self.quantity_received
        expected_line = self._prepare_unit_move_line_vals(picking.location_id, picking.location_dest_id, quantity)
        return {
            "product_id": self.product_id.id,
            "product_uom": self.product_uom_id.id,
            "product_uom_qty": quantity,
            "picking_id": picking.id,
            "location_id": picking.location_id.id,
            "location_dest_id": picking.location_dest_id.id,
            "picking_type_id": picking.picking_type_id.id,
            "warehouse_id": picking.picking_type_id.warehouse_id.id,
            "company_id": self.company_id.id,
            "partner_id": self.rma_id.partner_id.id,
            "origin": self.rma_id.name,
            "date": picking.scheduled_date,
            "origin_returned_move_id": origin_move.id,
            "sale_line_id": origin_move.sale_line_id.id,
            "to_refund": bool(origin_move),
            "rma_line_id": self.id,
            "move_line_ids": [Command.create(expected_line)],
        }

    def _prepare_substitution_line_vals(self, lot, code):
        """A line for a unit that arrived on ``self`` (an RMA's lines) although it is not one of them."""
        rma = self.rma_id
        rma.ensure_one()
        return {
            "rma_id": rma.id,
            "product_id": lot.product_id.id,
            "serial_number": code,
            "quantity": 1.0,
            "is_substitution": True,
            "override_reason": self.env._("Received on %(rma)s in place of an authorized unit.", rma=rma.name),
            "override_user_id": self.env.uid,
            "override_date": fields.Datetime.now(),
        }
