from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, escape_psql

from .rma_posting_lock import serialize_rma_postings
from .rma_server_context import server_context
from .rma_workflow_guard import ensure_workflow_fields, field_labels

# Unit states in which the unit is physically with us (received and not closed).
ON_HAND_STATES = ("received", "inspection", "disposition", "in_progress", "ready")
RECEIVABLE_RMA_STATES = ("authorized", "in_progress")


class RmaLine(models.Model):
    """Receipt, physical moves, status and chain of custody of a returned unit."""

    _inherit = "rma.line"

    # ------------------------------------------------------------------
    # Receipt
    # ------------------------------------------------------------------
    received_date = fields.Datetime(string="Received On", readonly=True, copy=False)
    received_by_id = fields.Many2one(
        "res.users", readonly=True, copy=False, help="The technician who scanned the unit in."
    )
    receipt_station = fields.Char(readonly=True, copy=False, help="The scanning station that received the unit.")
    quantity_received = fields.Float(digits="Product Unit", readonly=True, copy=False)
    receipt_move_ids = fields.One2many(
        "stock.move", "rma_line_id", string="Stock Moves", readonly=True, help="Every stock move of the unit."
    )
    receipt_value = fields.Monetary(
        currency_field="currency_id",
        compute="_compute_receipt_value",
        help="The value Odoo gave the unit when it was received (its original cost).",
    )
    location_id = fields.Many2one(
        "stock.location", string="Current Location", readonly=True, copy=False, index="btree_not_null"
    )
    is_substitution = fields.Boolean(
        string="Substitution Suspected",
        readonly=True,
        copy=False,
        help="A unit that arrived on this RMA but is not one of the units authorized: held for a manager,"
        " received without reference to any original delivery.",
    )

    # ------------------------------------------------------------------
    # Chain of custody: the head of the unit's chain, written only by rma.custody.event
    # ------------------------------------------------------------------
    custody_event_ids = fields.One2many("rma.custody.event", "line_id", string="Custody Events", readonly=True)
    custody_sequence = fields.Integer(readonly=True, copy=False)
    custody_hash = fields.Char(readonly=True, copy=False)

    @api.depends("receipt_move_ids.value")
    def _compute_receipt_value(self):
        for line in self:
            line.receipt_value = sum(line._receipt_moves().mapped("value"))

    @api.model_create_multi
    def create(self, vals_list):
        ensure_workflow_fields(self, {name for vals in vals_list for name in vals})
        if not self.env.su:
            rmas = self.env["rma.order"].browse({vals.get("rma_id") for vals in vals_list} - {None, False})
            decided = rmas.filtered(lambda rma: rma.state != "draft")
            if decided:
                raise UserError(
                    self.env._(
                        "%(rmas)s is decided: units can no longer be added. A unit that arrives in place of an"
                        " authorized one is received as a substitution when it is scanned.",
                        rmas=", ".join(decided.mapped("display_name")),
                    )
                )
        return super().create(vals_list)

    def write(self, vals):
        if {"custody_sequence", "custody_hash"} & set(vals):
            raise UserError(self.env._("The head of a custody chain is only moved by recording an event."))
        ensure_workflow_fields(self, vals)
        frozen = set(vals) & set(self._frozen_fields)
        decided = frozen and self.filtered(
            lambda line: (
                line.state != "draft"
                and any(line._fields[name].convert_to_write(line[name], line) != vals[name] for name in frozen)
            )
        )
        if decided:
            raise UserError(
                self.env._(
                    "%(fields)s of a unit cannot change once its RMA is decided: %(units)s.",
                    fields=field_labels(self, frozen),
                    units=", ".join(decided.mapped("display_name")),
                )
            )
        return super().write(vals)

    def _workflow(self):
        """These units, allowed to write their server-owned fields (see rma_workflow_guard): call only after the
        step's guard ran as the real user."""
        return self.sudo()

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_view_custody_events(self):
        return self.custody_event_ids._get_records_action(name=self.env._("Chain of Custody"))

    def action_accept_substitution(self):
        """A manager accepts a unit that arrived in place of an authorized one; it may then be inspected."""
        self.rma_id._ensure_manager()
        serialize_rma_postings(self.env, self.company_id)
        if not all(self.mapped("is_substitution")):
            raise UserError(self.env._("Only units held as suspected substitutions can be accepted."))
        self._workflow().is_substitution = False
        self._value_accepted_substitutions()
        note = self.env._("Substitution accepted by %(user)s", user=self.env.user.name)
        self.env["rma.custody.event"].sudo().create(
            [
                {"line_id": line.id, "event_type": "status", "location_id": line.location_id.id, "note": note}
                for line in self
            ]
        )
        for rma, lines in self.grouped("rma_id").items():
            rma.message_post(
                body=self.env._("%(note)s: %(units)s", note=note, units=", ".join(lines.mapped("serial_number")))
            )
        return True

    # ------------------------------------------------------------------
    # Receipt
    # ------------------------------------------------------------------
    def _action_receive(self, station=False, scanned_codes=None, quantity=None):
        """Receive the units into their warehouse's quarantine, in one batch of stock moves.

        ``scanned_codes``: {line id: code scanned}; ``quantity``: for one untracked line, how many came in.
        Serial units keep their original delivery (so Odoo values the receipt at the original cost), except
        suspected substitutions, which are received without it.
        """
        self._ensure_can_be_received(quantity)
        scanned_codes = scanned_codes or {}
        self._create_missing_lots()
        move_vals_list = [line._prepare_receipt_move_vals(quantity) for line in self]
        origins = self.env["stock.move"].browse({vals["origin_returned_move_id"] for vals in move_vals_list} - {False})
        # Each delivery's valued quantity, computed once for the batch (see stock.move._get_valued_qty).
        valued_qty = {origin.id: origin._get_valued_qty() for origin in origins}
        # Receipt moves are new and valued from their delivery: no manual value to look up for each of them.
        moves = self._create_done_moves(move_vals_list, valued_qty=valued_qty, skip_manual_value=True)
        self._hold_substitutions_at_zero(moves)
        self._post_receipt_entries(moves)

        now = fields.Datetime.now()
        for line, move in zip(self._workflow(), moves, strict=True):
            line.quantity_received += move.quantity
            line.location_id = move.location_dest_id
            if line.tracking != "serial" and line.quantity_received < line.quantity:
                continue
            line.update({"state": "received", "received_date": now, "received_by_id": self.env.uid})
            line.receipt_station = station
        self.env["rma.custody.event"].sudo().create(
            [
                {
                    "line_id": move.rma_line_id.id,
                    "event_type": "receipt",
                    "location_id": move.location_id.id,
                    "location_dest_id": move.location_dest_id.id,
                    "station": station,
                    "scanned_code": scanned_codes.get(move.rma_line_id.id),
                    "note": self.env._("Substitution suspected") if move.rma_line_id.is_substitution else False,
                }
                for move in moves
            ]
        )
        self.rma_id._sync_state_from_units()
        return moves

    def _receipt_moves(self):
        """The moves that brought the units in from the customer."""
        return self.receipt_move_ids.filtered(lambda move: move.location_id.usage == "customer")

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
                move.origin_returned_move_id = origin
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
        lots = self.env["stock.lot"].create(
            [
                {"product_id": line.product_id.id, "name": line.serial_number.strip(), "company_id": line.company_id.id}
                for line in missing
            ]
        )
        for line, lot in zip(missing, lots, strict=True):
            line.lot_id = lot

    def _prepare_receipt_move_vals(self, quantity=None):
        self.ensure_one()
        warehouse = self.rma_id.warehouse_id
        customers = self.env.ref("stock.stock_location_customers")
        if self.tracking == "serial":
            quantity = 1.0
        else:
            quantity = quantity or self.quantity - self.quantity_received
        origin_move = self.delivery_move_id if not self.is_substitution else self.env["stock.move"]
        return {
            "product_id": self.product_id.id,
            "product_uom": self.product_uom_id.id,
            "product_uom_qty": quantity,
            "location_id": customers.id,
            "location_dest_id": warehouse.rma_quarantine_location_id.id,
            "picking_type_id": warehouse.rma_receipt_type_id.id,
            "warehouse_id": warehouse.id,
            "company_id": self.company_id.id,
            "partner_id": self.rma_id.partner_id.id,
            "origin": self.rma_id.name,
            "origin_returned_move_id": origin_move.id,
            "rma_line_id": self.id,
            **self._prepare_done_move_line_vals(customers, warehouse.rma_quarantine_location_id, quantity),
        }

    # ------------------------------------------------------------------
    # Custody moves and status
    # ------------------------------------------------------------------
    def _action_move_to(self, destination, station=False, scanned_code=False, event_type="move", note=False):
        """Move units already with us to ``destination`` (done immediately) and log the handoff.

        ``destination`` and ``note`` may also be {unit: value}: one batch of moves whatever the destinations.
        """
        not_here = self.filtered(lambda line: line.state not in ON_HAND_STATES)
        if not_here:
            raise UserError(
                self.env._("%(unit)s is not in our custody.", unit=", ".join(not_here.mapped("display_name")))
            )
        destinations = destination if isinstance(destination, dict) else dict.fromkeys(self, destination)
        notes = note if isinstance(note, dict) else dict.fromkeys(self, note)
        moving = self.filtered(lambda line: line.location_id != destinations[line])
        moves = self._create_done_moves([line._prepare_custody_move_vals(destinations[line]) for line in moving])
        self.env["rma.custody.event"].sudo().create(
            [
                {
                    "line_id": line.id,
                    "event_type": event_type,
                    "location_id": line.location_id.id,
                    "location_dest_id": destinations[line].id,
                    "station": station,
                    "scanned_code": scanned_code,
                    "note": notes[line],
                }
                for line in self
            ]
        )
        for location, lines in self._workflow().grouped(lambda line: destinations[line]).items():
            lines.location_id = location
        return moves

    def _ensure_can_be_handed_to(self, location):
        """The Custody Scan hands a unit only to a storage location its status allows: a unit not yet decided
        (received, in inspection, waiting for its destruction) stays out of sellable and graded stock; units in
        refurbishment or repair stay in their WIP until the work is finished."""
        for line in self:
            if line.state == "in_progress" or line.location_id.usage != "internal":
                raise UserError(
                    self.env._(
                        "%(unit)s is in %(location)s: it comes back when its refurbishment or repair is finished.",
                        unit=line.display_name,
                        location=line.location_id.display_name,
                    )
                )
            if location.usage != "internal":
                raise UserError(
                    self.env._(
                        "%(location)s is not a storage location: units leave our stock through the disposition wizard.",
                        location=location.display_name,
                    )
                )
            if location.company_id and location.company_id != line.company_id:
                raise UserError(self.env._("%(location)s belongs to another company.", location=location.display_name))
            warehouse = line.rma_id.warehouse_id
            sellable = warehouse.lot_stock_id | warehouse.rma_graded_location_id
            if line.state != "ready" and any(location._child_of(place) for place in sellable):
                raise UserError(
                    self.env._(
                        "%(unit)s is %(state)s: it goes to %(location)s only through its disposition.",
                        unit=line.display_name,
                        state=dict(self._fields["state"]._description_selection(self.env))[line.state],
                        location=location.display_name,
                    )
                )

    def _prepare_custody_move_vals(self, destination):
        self.ensure_one()
        quantity = 1.0 if self.tracking == "serial" else self.quantity_received
        return {
            "product_id": self.product_id.id,
            "product_uom": self.product_uom_id.id,
            "product_uom_qty": quantity,
            "location_id": self.location_id.id,
            "location_dest_id": destination.id,
            "company_id": self.company_id.id,
            "origin": self.rma_id.name,
            "rma_line_id": self.id,
            **self._prepare_done_move_line_vals(self.location_id, destination, quantity),
        }

    def _prepare_done_move_line_vals(self, source, destination, quantity):
        """The unit's move line (its serial, picked): the move is done as is, without reservation."""
        self.ensure_one()
        return {
            "picked": True,
            "move_line_ids": [
                Command.create(
                    {
                        "product_id": self.product_id.id,
                        "product_uom_id": self.product_uom_id.id,
                        "lot_id": self.lot_id.id,
                        "quantity": quantity,
                        "location_id": source.id,
                        "location_dest_id": destination.id,
                        "company_id": self.company_id.id,
                    }
                )
            ],
        }

    def _create_done_moves(self, move_vals_list, valued_qty=None, skip_manual_value=False):
        """Create the units' moves and validate them at once (as repair does for its repaired products).

        ``valued_qty``: {delivery move id: valued quantity}, computed once for a receipt batch; ``skip_manual_value``:
        the moves are new receipts, with no manual value to look up (see stock.move). Both reach stock.move as
        server-only context values: a client cannot forge them.
        """
        # The moves name their unit (rma_line_id), which only the server may write: created as superuser.
        # Moves done on the spot reserve nothing (see stock.move._should_bypass_reservation).
        moves = self.env["stock.move"].sudo().with_context(**server_context(rma_done_now=True)).create(move_vals_list)
        caches = {"rma_done_now": True}
        if valued_qty:
            caches["rma_valued_qty"] = valued_qty
        if skip_manual_value:
            caches["rma_new_move_ids"] = frozenset(moves.ids)
        # Odoo dates its valuation entry from force_period_date when a caller sends it: a unit's moves are dated today.
        moves.with_env(self.env).with_context(force_period_date=False, **server_context(**caches))._action_done()
        return moves.with_env(self.env)

    def _set_unit_state(self, state, note=False, station=False):
        """Change the units' status, with a custody event each, and let their RMAs follow."""
        changing = self.filtered(lambda line: line.state != state)
        if not changing:
            return
        label = dict(self._fields["state"]._description_selection(self.env))[state]
        self.env["rma.custody.event"].sudo().create(
            [
                {
                    "line_id": line.id,
                    "event_type": "status",
                    "location_id": line.location_id.id,
                    "station": station,
                    "note": note or label,
                }
                for line in changing
            ]
        )
        changing._workflow().state = state
        changing.rma_id._sync_state_from_units()

    def _set_custody_heads(self, heads):
        """Store the new heads of the units' chains (called by rma.custody.event.create only)."""
        line_ids = list(heads)
        self.env.cr.execute(
            SQL(
                """UPDATE rma_line SET custody_sequence = head.sequence, custody_hash = head.hash
                     FROM unnest(%s::int[], %s::int[], %s::varchar[]) AS head(id, sequence, hash)
                    WHERE rma_line.id = head.id""",
                line_ids,
                [heads[line_id][0] for line_id in line_ids],
                [heads[line_id][1] for line_id in line_ids],
            )
        )
        self.browse(line_ids).invalidate_recordset(["custody_sequence", "custody_hash"])

    @api.model
    def _find_by_code(self, code, domain=None):
        """Units whose declared serial or matched lot is exactly ``code`` (case-insensitive, trimmed: ``%`` and
        ``_`` are characters, not wildcards)."""
        code = (code or "").strip()
        if not code:
            return self.browse()
        pattern = escape_psql(code)
        return self.search(
            [*(domain or []), "|", ("serial_number", "=ilike", pattern), ("lot_id.name", "=ilike", pattern)],
            order="id desc",
        )

    def _prepare_substitution_line_vals(self, lot, code):
        """A line for a unit that arrived on ``self`` (an RMA's lines) although it is not one of them."""
        rma = self.rma_id
        rma.ensure_one()
        return {
            "rma_id": rma.id,
            "product_id": lot.product_id.id,
            "serial_number": code,
            "quantity": 1.0,
            "state": "authorized",
            "is_substitution": True,
            "override_reason": self.env._("Received on %(rma)s in place of an authorized unit.", rma=rma.name),
            "override_user_id": self.env.uid,
            "override_date": fields.Datetime.now(),
        }
