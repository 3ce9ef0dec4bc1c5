from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain
from odoo.tools import SQL, escape_psql

from .rma_line import ON_HAND_STATES
from .rma_server_context import server_context


class RmaLine(models.Model):
    """Where a returned unit is, the moves that took it there, and its chain of custody."""

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

    def write(self, vals):
        if {"custody_sequence", "custody_hash", "custody_sealed_sequence"} & set(vals):
            raise UserError(self.env._("The head of a custody chain is only moved by recording an event."))
        return super().write(vals)

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_view_custody_events(self):
        return self.custody_event_ids._get_records_action(name=self.env._("Chain of Custody"))

    def action_print_custody_report(self):
        return self.env.ref("rma_recovery.action_report_unit_custody").report_action(self)

    def _custody_covering_seal(self):
        """The seal that covers the unit's last event, or an empty record (not sealed yet)."""
        self.ensure_one()
        if not self.custody_sealed_sequence or self.custody_sealed_sequence != self.custody_sequence:
            return self.env["rma.custody.seal"]
        return (
            self.env["rma.custody.seal"]
            .sudo()
            .search(
                [("company_id", "=", self.company_id.id), ("heads", "like", f"[{self.id},{self.custody_sequence},")],
                order="sequence",
                limit=1,
            )
        )

    def action_export_custody(self):
        """The units' chains of custody with the company's seals, as JSON Lines (tools/verify_custody.py)."""
        return self.custody_event_ids._action_export_custody()

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
        moving = self.filtered(lambda line: line.location_id != destinations[line])
        moves = self._create_done_moves([line._prepare_custody_move_vals(destinations[line]) for line in moving])
        self.env["rma.custody.event"]._log(
            self, event_type, destination=destinations, note=note, station=station, scanned_code=scanned_code
        )
        self._set_location(destinations)
        # A remarketed unit handed out of graded stock (back to sellable stock) ends its path.
        leaving = moves._rma_leaving_graded_stock()
        if leaving:
            leaving.rma_line_id._leave_graded_stock(leaving, logged=True)
        return moves

    def _set_location(self, destinations):
        """Where the units are now ({unit: location}): server-owned, written after the step's guard."""
        for location, lines in self.sudo().grouped(lambda line: destinations[line]).items():
            lines.location_id = location

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
        # The moves name their unit (rma_line_id), which only the server may write: created as superuser.
        # Moves done on the spot reserve nothing (see stock.move._should_bypass_reservation).
        moves = self.env["stock.move"].sudo().create(move_vals_list)
        return moves.with_env(self.env)

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
        lot_ids = self.env["stock.lot"]._search([("name", "=ilike", escape_psql(code))]).get_result_ids()
        serial_is_code = Domain.custom(
            to_sql=lambda model, alias, query: SQL(
                "lower(btrim(%s)) = lower(%s)", model._field_to_sql(alias, "serial_number", query), code
            )
        )
        return self.search(Domain(domain or []) & (serial_is_code | Domain("lot_id", "in", lot_ids)), order="id desc")
