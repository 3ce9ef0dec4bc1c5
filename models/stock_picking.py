from dateutil.relativedelta import relativedelta

from odoo import Command, api, fields, models
from odoo.exceptions import UserError

from .rma_workflow_guard import ensure_workflow_fields, server_create, server_owned, server_write

# The states of an RMA whose receipt takes units in.
RECEIVABLE_RMA_STATES = ("authorized", "in_progress")


class StockPicking(models.Model):
    """An RMA's receipt: a move per unit expected, each validated on its own as the unit is scanned in (_rma_receive);
    the deliveries of a unit's remedy (a replacement, a repaired unit shipped back)."""

    _inherit = "stock.picking"

    rma_id = fields.Many2one(
        "rma.order", string="RMA", readonly=True, copy=False, index="btree_not_null", check_company=True
    )

    rma_remedy_id = fields.Many2one(
        "rma.order",
        string="Remedy of RMA",
        readonly=True,
        copy=False,
        index="btree_not_null",
        check_company=True,
        help="A replacement, or a repaired unit shipped back, for this RMA.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        # The links to RMAs are the server's (rma_workflow_guard): refused to a client's create.
        ensure_workflow_fields(self, {name for vals in vals_list for name in vals})
        return super().create(vals_list)

    def write(self, vals):
        ensure_workflow_fields(self, vals)
        return super().write(vals)

    def button_validate(self):
        # An RMA's receipt is validated unit by unit as the units are scanned in: each scan records the unit's
        # custody, its value and its receipt entry. Validate opens the RMA's Receive screen.
        rma_receipts = self.filtered("rma_id")
        if rma_receipts:
            if len(self) > 1:
                raise UserError(
                    self.env._(
                        "%(receipts)s are RMA receipts: receive their units on the Receive screen, one RMA at a time.",
                        receipts=", ".join(rma_receipts.mapped("name")),
                    )
                )
            return self.rma_id.action_open_receive_screen()
        return super().button_validate()

    def _action_done(self):
        # Whatever the caller, an RMA's receipt is never validated as a whole: see button_validate.
        if self.filtered("rma_id"):
            raise UserError(
                self.env._("Receive the units of an RMA by scanning them on the Receive screen (Inventory > Returns).")
            )
        return super()._action_done()

    def _create_backorder_picking(self):
        # The backorder of a remedy delivery (the units not shipped yet) is still a remedy delivery of its RMA.
        backorder = super()._create_backorder_picking()
        if self.rma_remedy_id:
            server_write(backorder, {"rma_remedy_id": self.rma_remedy_id.id})
        return backorder

    # ------------------------------------------------------------------
    # An RMA's receipt
    # ------------------------------------------------------------------
    @api.model
    def _create_rma_receipts(self, rmas):
        """A receipt per RMA. The RMA's chatter tells its story: the receipts log no creation message of their own
        (a thousand RMAs authorized at once would write a thousand messages). The receipt links to its RMA, a field
        only the server writes (whoever authorizes is a stock user: they may create transfers)."""
        return server_create(
            self.with_context(mail_create_nolog=True, mail_create_nosubscribe=True),
            [self._prepare_rma_receipt_vals(rma) for rma in rmas],
        )

    def _prepare_rma_receipt_vals(self, rma):
        """The receipt of ``rma``: from the customer into its warehouse's returns quarantine."""
        picking_type = rma.warehouse_id.rma_receipt_type_id
        return {
            "picking_type_id": picking_type.id,
            "partner_id": rma.partner_id.id,
            "location_id": self.env.ref("stock.stock_location_customers").id,
            "location_dest_id": rma.warehouse_id.rma_quarantine_location_id.id,
            "origin": rma.name,
            "company_id": rma.company_id.id,
            "rma_id": rma.id,
            "scheduled_date": fields.Datetime.now() + relativedelta(days=rma.company_id.rma_shipping_days),
        }

    def _prepare_rma_receipt_move_vals(self, unit):
        """The move of ``unit`` (rma.line) in ``self``, its RMA's receipt, with the line of what is expected (the
        serial the RMA knows, the quantity), which a scan then confirms. Linked to the original delivery and its sale
        line as Odoo's own returns are (valued at the original cost, the delivered quantity goes down once received),
        except a suspected substitution, received without either."""
        self.ensure_one()
        origin_move = unit.delivery_move_id if not unit.is_substitution else self.env["stock.move"]
        quantity = 1.0 if unit.tracking == "serial" else unit.quantity - unit.quantity_received
        expected_line = unit._prepare_unit_move_line_vals(self.location_id, self.location_dest_id, quantity)
        return {
            "product_id": unit.product_id.id,
            "product_uom": unit.product_uom_id.id,
            "product_uom_qty": quantity,
            "picking_id": self.id,
            "location_id": self.location_id.id,
            "location_dest_id": self.location_dest_id.id,
            "picking_type_id": self.picking_type_id.id,
            "warehouse_id": self.picking_type_id.warehouse_id.id,
            "company_id": unit.company_id.id,
            "partner_id": unit.rma_id.partner_id.id,
            "origin": unit.rma_id.name,
            "date": self.scheduled_date,
            "origin_returned_move_id": origin_move.id,
            "sale_line_id": origin_move.sale_line_id.id,
            "to_refund": bool(origin_move),
            "rma_line_id": unit.id,
            "move_line_ids": [Command.create(expected_line)],
        }

    @api.model
    def _rma_receive(self, units, station=False, scanned_codes=None, quantity=None, read_ref=False):
        """Receive ``units`` (rma.line) into their warehouse's quarantine: each unit's move in its RMA's receipt is
        validated on its own, in one batch for all the units. Returns the units' receipt moves, in their order.

        ``scanned_codes``: {unit id: code scanned}; ``quantity``: for one untracked unit, how many came in;
        ``read_ref``: the bulk read that received the units (rma.scan.receive_bulk), in their receipt events.
        The receipt stays open for the units still expected: a parcel received in several scans completes one
        document instead of leaving a chain of backorders, and the RMA number keeps naming one receipt.
        Serial units keep their original delivery (so Odoo values the receipt at the original cost), except
        suspected substitutions, which are received without it and held at zero value.
        """
        units = units.with_env(self.env)
        units._lock_units()  # two scans of one unit at once: the second waits, then finds it received
        units._ensure_can_be_received(quantity)
        scanned_codes = scanned_codes or {}
        self.env["stock.lot"]._create_rma_unit_lots(units)
        moves = self._rma_prepare_receipt_moves(units, quantity)
        # Each delivery's valued quantity, computed once for the batch (see stock.move._get_valued_qty).
        valued_qty = {origin.id: origin._get_valued_qty() for origin in moves.origin_returned_move_id}
        units._validate_unit_moves(moves, valued_qty=valued_qty)
        moves.picking_id._rma_date_completed_receipts()
        moves.filtered(lambda move: move.rma_line_id.is_substitution)._rma_hold_at_zero()

        now = fields.Datetime.now()
        vals_by_unit, complete = {}, units.browse()
        for unit, move in zip(units, moves, strict=True):
            received = unit.quantity_received + move.quantity
            vals_by_unit[unit] = {"quantity_received": received, "location_id": move.location_dest_id.id}
            if unit.tracking == "serial" or received >= unit.quantity:
                vals_by_unit[unit].update(received_date=now, received_by_id=self.env.uid, receipt_station=station)
                complete |= unit
        server_owned(units)._write_each(vals_by_unit)
        complete._transition("received")
        received = moves.rma_line_id
        read_note = read_ref and self.env._("Bulk read %(read)s", read=read_ref)
        self.env["rma.custody.event"]._log(
            received,
            "receipt",
            location={move.rma_line_id: move.location_id for move in moves},
            destination={move.rma_line_id: move.location_dest_id for move in moves},
            note={
                unit: self.env._("Substitution suspected") if unit.is_substitution else read_note for unit in received
            },
            station=station,
            scanned_code={unit: scanned_codes.get(unit.id) or False for unit in received},
            read_ref=read_ref,
        )
        moves.picking_id.filtered(lambda picking: picking.state == "done").rma_id._rma_notify("received")
        # Last: the RMA journal's next number is held from its posting to the commit, concurrent receipts wait on it.
        # Everything else is written first, so that only the entry's own writes happen while it is held.
        self.env.flush_all()
        moves._rma_post_receipt_entries()
        return moves

    @api.model
    def _rma_prepare_receipt_moves(self, units, quantity=None):
        """Each unit's move in its RMA's receipt, in the order of ``units``, set to what arrived: the unit's
        serial, picked. A unit without one (a substitution) gets its own move in the receipt. An untracked unit
        received in part leaves the rest in the receipt as a move of its own, still expected."""
        pending = self._rma_pending_receipt_moves(units)
        missing = units.filtered(lambda unit: unit not in pending)
        if missing:
            receipts = missing.rma_id._get_receipt_pickings()
            new_moves = missing._create_unit_moves(
                [receipts[unit.rma_id]._prepare_rma_receipt_move_vals(unit) for unit in missing]
            )
            new_moves._action_confirm(merge=False)
            pending.update(zip(missing, new_moves, strict=True))
        moves = self.env["stock.move"].concat(*(pending[unit] for unit in units))
        quantities = {
            unit: 1.0 if unit.tracking == "serial" else (quantity or unit.quantity - unit.quantity_received)
            for unit in units
        }
        # What arrived is the move's line of what was expected (made with the move), picked:
        # one write for the batch. A line that differs (a serial unknown until now, an untracked unit received in
        # part) is completed first, line by line: Odoo's move-line write checks each on its own.
        lines_by_move = moves.move_line_ids.grouped("move_id")
        expected = extra = self.env["stock.move.line"]
        new_line_vals = []
        for unit in units:
            move_lines = lines_by_move.get(pending[unit], expected.browse())
            if not move_lines:
                # The expected line was removed (unreserved in Inventory): what arrived gets its own.
                move = pending[unit]
                new_line_vals.append(
                    {
                        **unit._prepare_unit_move_line_vals(move.location_id, move.location_dest_id, quantities[unit]),
                        "move_id": move.id,
                        "picking_id": move.picking_id.id,
                        "picked": True,
                    }
                )
                continue
            first = move_lines[0]
            if first.lot_id != unit.lot_id or first.product_uom_id.compare(first.quantity, quantities[unit]):
                first.write({"lot_id": unit.lot_id.id, "quantity": quantities[unit]})
            extra |= move_lines - first
            expected |= first
        extra.unlink()
        expected.write({"picked": True})
        self.env["stock.move.line"].create(new_line_vals)
        # Picked lines make the moves picked (stock.move._compute_picked).
        partial = moves.filtered(lambda move: move.product_uom.compare(move.quantity, move.product_uom_qty) < 0)
        if partial:
            # stock.move's own split: the rest stays in the same receipt (no backorder picking), still expected.
            partial._create_backorder()._action_assign()
        return moves

    @api.model
    @api.model
    def _rma_check_serials_receivable(self, units, companies, rmas):
        """``units``: (lot, product, serial) arriving on ``rmas`` (see rma.line._ensure_serials_receivable)."""
        lots = self.env["stock.lot"].union(*(lot for lot, _product, _serial in units))
        if lots:
            in_stock = self.env["stock.quant"]._read_group(
                [
                    ("lot_id", "in", lots.ids),
                    ("location_id.usage", "in", ("internal", "transit")),
                    ("company_id", "in", companies.ids),
                    ("quantity", ">", 0),
                ],
                ["lot_id"],
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
        # Another RMA's units, whichever the user may read: a serial open on any of them is not received here.
        others = (
            self.env["rma.line"]
            .sudo()
            .search(
                [
                    ("rma_id", "not in", rmas.ids),
                    ("state", "not in", ("closed", "rejected", "cancel")),
                    ("product_id", "in", [product.id for _lot, product, _serial in units]),
                    ("serial_number", "in", [serial for _lot, _product, serial in units]),
                ]
            )
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

    def _rma_pending_receipt_moves(self, units):
        """{unit: its move in its RMA's receipt, not yet done}."""
        return {
            move.rma_line_id: move
            for move in units.receipt_move_ids
            if move.picking_id.rma_id and move.state not in ("done", "cancel")
        }

    def _rma_date_completed_receipts(self):
        """The RMA receipts among ``self`` that their last scan has just completed take its time as their Effective
        Date, as Odoo's _action_done dates a validated transfer, and are no longer scheduled after it. Each move keeps
        the time of its own scan (Odoo's write of date_done would re-date them all)."""
        completed = self.filtered(lambda picking: picking.rma_id and picking.state == "done" and not picking.date_done)
        if not completed:
            return
        scan_dates = {move: move.date for move in completed.move_ids}
        by_date_done = completed.grouped(
            lambda picking: max(move.date for move in picking.move_ids if move.state == "done")
        )
        for date_done, pickings in by_date_done.items():
            pickings.write({"date_done": date_done})
            pickings.filtered_domain([("scheduled_date", ">", date_done)]).scheduled_date = date_done
        moves = self.env["stock.move"].concat(*(move for move, date in scan_dates.items() if move.date != date))
        for date, redated in moves.grouped(scan_dates.get).items():
            redated.date = date
