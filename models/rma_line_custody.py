from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain
from odoo.tools import SQL

from .rma_line import DISPOSITION_FIELDS, ON_HAND_STATES
from .rma_server_context import server_context
from .rma_workflow_guard import server_create, server_write


class RmaLine(models.Model):
    """Where a returned unit is and what its receipt recorded (stock.picking._rma_receive does the receipt), the
    moves that took it there (into and out of its WIP, out of graded stock), its chain of custody, and the
    certificates of its data's sanitization."""

    _inherit = "rma.line"

    # ------------------------------------------------------------------
    # Where the unit is, and every move that took it there
    # ------------------------------------------------------------------
    receipt_move_ids = fields.One2many(
        "stock.move", "rma_line_id", string="Stock Moves", readonly=True, help="Every stock move of the unit."
    )
    location_id = fields.Many2one(
        "stock.location", string="Current Location", readonly=True, copy=False, index="btree_not_null"
    )
    # What its receipt recorded (stock.picking._rma_receive)
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

    # ------------------------------------------------------------------
    # Chain of custody: the head of the unit's chain, written only by rma.custody.event
    # ------------------------------------------------------------------
    custody_event_ids = fields.One2many("rma.custody.event", "line_id", string="Custody Events", readonly=True)
    custody_sequence = fields.Integer(readonly=True, copy=False)
    custody_hash = fields.Char(readonly=True, copy=False)
    origin_country_id = fields.Many2one(
        "res.country",
        string="Country of Origin",
        compute="_compute_origin_country_id",
        compute_sudo=True,  # the serial's country, shown to accountants who read units without access to lots
        help="The serial's own, else its product's.",
    )
    # The position of the chain's head that the company's last seal covers (rma.custody.seal).
    custody_sealed_sequence = fields.Integer(readonly=True, copy=False)

    @api.depends("lot_id.rma_origin_country_id", "product_id.rma_origin_country_id")
    def _compute_origin_country_id(self):
        for line in self:
            line.origin_country_id = line.lot_id.rma_origin_country_id or line.product_id.rma_origin_country_id

    @api.depends("receipt_move_ids.value")
    def _compute_receipt_value(self):
        for line in self:
            line.receipt_value = sum(line._receipt_moves().mapped("value"))

    def write(self, vals):
        if {"custody_sequence", "custody_hash", "custody_sealed_sequence"} & set(vals):
            raise UserError(self.env._("The head of a custody chain is only moved by recording an event."))
        return super().write(vals)

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_view_custody_events(self):
        return self.custody_event_ids._get_records_action(name=self.env._("Chain of Custody"))

    def action_verify_custody(self):
        """Recompute the unit's chain of custody from the database (every event's hash and the chain's head) and say
        whether it is intact. Its cost is the unit's own events, whatever the history's size."""
        self.ensure_one()
        self.check_access("read")  # the check reads the events in SQL: the unit must be the user's to read
        result = self.env["rma.custody.event"]._check_integrity(self.company_id, line_ids=self.ids, seals=False)
        if result["ok"]:
            message = self.env._(
                "The chain of custody of %(unit)s is intact: %(count)s events verified.",
                unit=self.display_name,
                count=result["event_count"],
            )
        else:
            message = result["message"]
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"type": "success" if result["ok"] else "danger", "message": message, "sticky": not result["ok"]},
        }

    def action_print_custody_report(self):
        return self.env.ref("rma_recovery.action_report_unit_custody").report_action(self)

    def action_export_custody(self):
        """The units' chains of custody with the company's seals, as JSON Lines (tools/verify_custody.py)."""
        return self.custody_event_ids._action_export_custody()

    def action_accept_substitution(self):
        """A manager accepts a unit that arrived in place of an authorized one; it may then be inspected."""
        self.rma_id._ensure_manager()
        if not all(self.mapped("is_substitution")):
            raise UserError(self.env._("Only units held as suspected substitutions can be accepted."))
        server_write(self, {"is_substitution": False})
        receipts = self._receipt_moves()
        receipts._rma_value_accepted_substitutions()
        receipts._rma_post_receipt_entries()
        note = self.env._("Substitution accepted by %(user)s", user=self.env.user.name)
        self.env["rma.custody.event"]._log(self, "status", note=note)
        for rma, lines in self.grouped("rma_id").items():
            rma.message_post(
                body=self.env._("%(note)s: %(units)s", note=note, units=", ".join(lines.mapped("serial_number")))
            )
        return True

    def _custody_covering_seal(self):
        """The seal that covers the unit's last event, or an empty record (not sealed yet)."""
        self.ensure_one()
        if not self.custody_sealed_sequence or self.custody_sealed_sequence != self.custody_sequence:
            return self.env["rma.custody.seal"]
        return (
            self.env["rma.custody.seal"]
            .sudo()  # the chain's report is printed by billing users too, who may not read the company's seals
            .search(
                [("company_id", "=", self.company_id.id), ("heads", "like", f"[{self.id},{self.custody_sequence},")],
                order="sequence",
                limit=1,
            )
        )

    # ------------------------------------------------------------------
    # Custody moves and status
    # ------------------------------------------------------------------
    def _receipt_moves(self):
        """The moves that brought the units in from the customer."""
        return self.receipt_move_ids.filtered(
            lambda move: move.location_id.usage == "customer" and move.state == "done"
        )

    def _action_move_to(
        self, destination, station=False, scanned_code=False, event_type="move", note=False, read_ref=False
    ):
        """Move units already with us to ``destination`` (done immediately) and log the handoff.

        ``destination``, ``note`` and ``scanned_code`` may also be {unit: value}: one batch of moves whatever the
        destinations. ``read_ref``: the bulk read that handed the units over (rma.scan.custody_bulk).
        """
        not_here = self.filtered(lambda line: line.state not in ON_HAND_STATES)
        if not_here:
            raise UserError(
                self.env._("%(unit)s is not in our custody.", unit=", ".join(not_here.mapped("display_name")))
            )
        destinations = destination if isinstance(destination, dict) else dict.fromkeys(self, destination)
        moving = self.filtered(lambda line: line.location_id != destinations[line])
        moves = self._create_done_moves([line._prepare_custody_move_vals(destinations[line]) for line in moving])
        if read_ref and not note:
            note = self.env._("Bulk read %(read)s", read=read_ref)
        self.env["rma.custody.event"]._log(
            self,
            event_type,
            destination=destinations,
            note=note,
            station=station,
            scanned_code=scanned_code,
            **({"read_ref": read_ref} if read_ref else {}),
        )
        self._set_location(destinations)
        # A remarketed unit handed out of graded stock (back to sellable stock) ends its path.
        leaving = moves._rma_leaving_graded_stock()
        if leaving:
            leaving.rma_line_id._leave_graded_stock(leaving, logged=True)
        return moves

    def _set_location(self, destinations):
        """Where the units are now ({unit: location}): server-owned, written after the step's guard."""
        for location, lines in self.grouped(lambda line: destinations[line]).items():
            server_write(lines, {"location_id": location.id})

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
            "move_line_ids": [Command.create(self._prepare_unit_move_line_vals(source, destination, quantity))],
        }

    def _prepare_unit_move_line_vals(self, source, destination, quantity):
        """The line of the unit itself (its serial, its quantity) in a move from ``source`` to ``destination``."""
        self.ensure_one()
        return {
            "product_id": self.product_id.id,
            "product_uom_id": self.product_uom_id.id,
            "lot_id": self.lot_id.id,
            "quantity": quantity,
            "location_id": source.id,
            "location_dest_id": destination.id,
            "company_id": self.company_id.id,
        }

    def _create_done_moves(self, move_vals_list):
        """Create the units' moves and validate them at once (as repair does for its repaired products)."""
        return self._validate_unit_moves(self._create_unit_moves(move_vals_list))

    def _create_unit_moves(self, move_vals_list):
        # The moves name their unit (rma_line_id), a server-owned field: created as the user after the step's guard.
        # Moves done on the spot reserve nothing (see stock.move._should_bypass_reservation).
        return server_create(self.env["stock.move"], move_vals_list)

    def _create_move_values(self, value_by_move):
        """{move: value}: the value Odoo gives each move when it is done (product.value), recorded before the step
        validates the moves. The one door to valuation records of the unit's steps."""
        # Only stock managers write valuation records: the server records them, after the step's guard.
        self.env["product.value"].sudo().create(
            [
                {"move_id": move.id, "value": value, "company_id": move.company_id.id}
                for move, value in value_by_move.items()
            ]
        )

    def _validate_unit_moves(self, moves, valued_qty=None):
        """Validate the units' moves now, each alone: no backorder is made of what the batch does not hold.

        ``valued_qty``: {delivery move id: valued quantity}, computed once for a receipt batch, a performance cache
        that reaches stock.move as a server-only context value (a client cannot forge it).
        """
        caches = {"rma_valued_qty": valued_qty} if valued_qty else {}
        # Odoo dates its valuation entry from force_period_date when a caller sends it: a unit's moves are dated today.
        moves.with_context(force_period_date=False, **server_context(**caches))._action_done(cancel_backorder=True)
        return moves

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
        ``_`` are characters, not wildcards). The serial is compared as rma_line_serial_number_key_idx holds it,
        and the lots so named are looked up first: both sides of the OR are index scans."""
        code = (code or "").strip()
        if not code:
            return self.browse()
        lot_ids = self.env["stock.lot"]._search(self.env["rma.scan"]._code_is("name", code)).get_result_ids()
        serial_is_code = Domain.custom(
            to_sql=lambda model, alias, query: SQL(
                "lower(btrim(%s)) = lower(%s)", model._field_to_sql(alias, "serial_number", query), code
            )
        )
        return self.search(Domain(domain or []) & (serial_is_code | Domain("lot_id", "in", lot_ids)), order="id desc")

    # ------------------------------------------------------------------
    # End of the work: the unit leaves its WIP, Refurbishment Finished or cancelled, or its repair order done or
    # cancelled (repair.order)
    # ------------------------------------------------------------------
    def action_cancel_refurbishment(self):
        """The refurbishment is abandoned: the unit goes back to quarantine, to be disposed again."""
        self._ensure_in_refurbishment()
        self._cancel_work(self.env._("Refurbishment cancelled"))
        return True

    def action_finish_refurbishment(self):
        """A refurbished unit is ready: from WIP to graded/remarketing stock at its carrying value."""
        self._ensure_in_refurbishment()
        move_vals_list = []
        for line in self:
            graded = line.rma_id.warehouse_id.rma_graded_location_id
            if not graded:
                raise UserError(
                    self.env._(
                        "Warehouse %(warehouse)s has no Graded / Remarketing location.",
                        warehouse=line.rma_id.warehouse_id.display_name,
                    )
                )
            move_vals_list.append(line._prepare_custody_move_vals(graded))
        moves = self._create_unit_moves(move_vals_list)
        self._prepare_work_close(moves)
        self._validate_unit_moves(moves)
        self._finish_work(moves)
        return True

    def _prepare_work_close(self, moves):
        """Value each unit's move out of WIP at its carrying value (before Odoo values it). Standard-cost products
        keep their standard price (Odoo values their stock at it); _finish_work books the difference."""
        self._create_move_values(
            {move: move.rma_line_id.carrying_value for move in moves if move.product_id.cost_method != "standard"}
        )

    def _cancel_work(self, note):
        """The refurbishment or repair is abandoned (the explicit action, or the unit's repair order cancelled):
        the unit goes back from its WIP to quarantine at its book value, the disposition's write-down and accrual
        are reversed, and it waits In Inspection (its inspection still stands) for a new disposition."""
        lines = self.filtered(lambda line: line.state == "in_progress")
        if not lines:
            return
        quarantine = {line: line.rma_id.warehouse_id.rma_quarantine_location_id for line in lines}
        moves = lines._create_unit_moves([line._prepare_custody_move_vals(quarantine[line]) for line in lines])
        # Back at its book value (standard cost: Odoo values it at the standard price).
        self._create_move_values(
            {move: move.rma_line_id.book_value for move in moves if move.product_id.cost_method != "standard"}
        )
        lines._validate_unit_moves(moves)
        moves._rma_post_work_cancel_entries()
        self.env["rma.custody.event"]._log(lines, "move", destination=quarantine, note=note)
        lines._set_location(quarantine)
        # The unit's current disposition is undone (its batch keeps the record of it).
        server_write(lines, dict.fromkeys(DISPOSITION_FIELDS, False))
        lines._transition("inspection", note=note)

    def _finish_work(self, moves):
        """The units' work is finished: they are in graded stock, ready for remarketing."""
        lines = moves.rma_line_id
        moves._rma_post_work_close_entries()
        destinations = {move.rma_line_id: move.location_dest_id for move in moves}
        self.env["rma.custody.event"]._log(
            lines,
            "move",
            location={move.rma_line_id: move.location_id for move in moves},
            destination=destinations,
            note={
                line: self.env._("Repair %(repair)s done", repair=line.repair_id.name)
                if line.repair_id
                else self.env._("Refurbishment finished")
                for line in lines
            },
        )
        lines._set_location(destinations)
        server_write(lines, {"work_finished_date": fields.Datetime.now()})
        lines._transition("ready")

    # ------------------------------------------------------------------
    # Graded stock: a remarketed unit leaves it by any move, the addon's or Odoo's own
    # ------------------------------------------------------------------
    def _in_graded_stock_of(self, location):
        """``location`` is in the graded stock that holds the unit: its warehouse's Graded / Remarketing location or
        any location below it (a shelf, a bin), where Odoo's own transfers may have put the unit."""
        self.ensure_one()
        graded = self.location_id.warehouse_id.rma_graded_location_id
        return bool(graded) and location._child_of(graded)

    def _leave_graded_stock(self, moves, logged=False):
        """Remarketed units left graded stock with ``moves`` (sold, delivered, scrapped, moved back to sellable
        stock): the NRV allowance of a standard-cost unit is released (contract) and the unit is closed. ``logged``:
        the moves are the addon's own, whose custody events and location are already recorded."""
        move_by_lot = {lot: move for move in moves for lot in move.move_line_ids.lot_id}
        lines = self.filtered(
            lambda line: (
                line.state == "ready"
                and line.lot_id in move_by_lot
                and (logged or line._in_graded_stock_of(move_by_lot[line.lot_id].location_id))
            )
        )
        if not lines:
            return
        # Whoever moves the unit (a custody scan, a salesperson's delivery) need not read the unit's journal items.
        self.env["account.move"]._rma_post_allowance_release(lines.sudo())
        if not logged:
            move_of = {line: move_by_lot[line.lot_id] for line in lines}
            destinations = {line: move.location_dest_id for line, move in move_of.items()}
            # Out to a customer (a sale, a repaired unit shipped back) it is a shipment.
            for shipped, event_lines in lines.grouped(lambda line: destinations[line].usage == "customer").items():
                self.env["rma.custody.event"]._log(
                    event_lines,
                    "shipment" if shipped else "move",
                    location={line: move_of[line].location_id for line in event_lines},
                    destination=destinations,
                    note={line: move_of[line].reference for line in event_lines},
                )
            lines._set_location(destinations)
        shipped_back = lines.filtered(lambda line: move_by_lot[line.lot_id].rma_remedy_line_id == line)
        if shipped_back:
            shipped_back._transition("closed", note=self.env._("Shipped back to the customer"))
        if lines - shipped_back:
            (lines - shipped_back)._transition("closed", note=self.env._("Left graded stock"))

    # ------------------------------------------------------------------
    # Data sanitization: the certificates that follow the unit's media (NIST SP 800-88)
    # ------------------------------------------------------------------
    def action_view_sanitizations(self):
        self.ensure_one()
        action = self.sanitization_ids._get_records_action(name=self.env._("Sanitization"))
        action["context"] = {"default_line_id": self.id}
        return action

    def action_print_certificates(self):
        certificates = self.sanitization_ids.filtered(lambda record: record.state == "validated")
        if not certificates:
            raise UserError(self.env._("These units have no validated certificate of sanitization yet."))
        return self.env.ref("rma_recovery.action_report_sanitization_certificate").report_action(certificates)

    def _sanitized_with(self, method_types):
        """Every medium of the unit has a validated certificate of one of ``method_types`` (and there is one)."""
        self.ensure_one()
        records = self.sanitization_ids.filtered(lambda record: record.state != "cancel")
        return bool(records) and all(
            record.state == "validated" and record.method_type in method_types for record in records
        )

    def _sanitization_blocker(self, code):
        """Why the unit cannot be disposed with ``code`` given its data-security requirement, or None."""
        self.ensure_one()
        if not self.company_id.rma_sanitization_rules:
            return None
        requirement = self.inspection_id.data_security
        if requirement == "destroy":
            if code.treatment == "destroy":
                return None
            if code.destination == "rma_harvest_location_id" and self._sanitized_with(("destroy",)):
                return None
            return self.env._(
                "%(unit)s must be destroyed: dispose it SD, or PH once a validated Destroy certificate covers each of"
                " its media.",
                unit=self.display_name,
            )
        if (
            requirement == "wipe"
            and code.treatment in ("restock", "refurbish", "repair")
            and not self._sanitized_with(("clear", "purge", "destroy"))
        ):
            return self.env._(
                "%(unit)s must be wiped first: it is restocked, refurbished or repaired once a validated Clear or Purge"
                " certificate covers each of its media.",
                unit=self.display_name,
            )
        return None

    def _close_destroyed(self, note):
        """The units' secure destruction (SD) is certified: their path ends. The one method the destruction
        certificate calls once it is issued; ``note`` names the certificate in the custody event."""
        waiting = self.filtered(
            lambda line: (
                line.state == "disposition"
                and (not line.company_id.rma_sanitization_rules or line._sanitized_with(("destroy",)))
            )
        )
        if waiting != self:
            raise UserError(
                self.env._(
                    "Only units waiting for their destruction, with a validated Destroy certificate for each of their"
                    " media, are closed by it: %(units)s.",
                    units=", ".join((self - waiting).mapped("display_name")),
                )
            )
        self._transition("closed", note=note)

    def _close_if_destruction_certified(self):
        """SD units whose every medium has a validated Destroy certificate close (rma.line._close_destroyed)."""
        certified = self.filtered(lambda line: line.state == "disposition" and line._sanitized_with(("destroy",)))
        for line in certified:
            names = line.sanitization_ids.filtered(lambda record: record.state == "validated").mapped("name")
            line._close_destroyed(self.env._("Destruction certified: %(certificates)s", certificates=", ".join(names)))

    def _create_sanitizations_from_inspection(self):
        """Draft certificates for the units whose inspection requires a wipe or destruction, one medium each."""
        lines = self.filtered(
            lambda line: line.inspection_id.data_security in ("wipe", "destroy") and not line.sanitization_ids
        )
        if not lines:
            return
        self.env["rma.sanitization"].create(
            [
                {
                    "line_id": line.id,
                    "method_type": "destroy" if line.inspection_id.data_security == "destroy" else "purge",
                    "method": "shred" if line.inspection_id.data_security == "destroy" else "overwrite",
                    "media_destination": "destroyed" if line.inspection_id.data_security == "destroy" else False,
                    "performer_name": self.env.user.name,
                    "performer_organization": line.company_id.name,
                }
                for line in lines
            ]
        )
