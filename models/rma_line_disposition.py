import math

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from .rma_disposition import REPAIR_LEVELS, WORK_TREATMENTS
from .rma_order import MANAGER_GROUP

# What a disposition writes on its unit, undone when the work is cancelled.
DISPOSITION_FIELDS = (
    "disposition_id",
    "repair_level",
    "net_realizable_value",
    "work_cost",
    "recovery_value",
    "book_value",
    "carrying_value",
    "disposition_note",
    "disposition_date",
    "disposition_user_id",
    "disposition_batch_id",
    "disposition_valuation",
    "repair_id",
)

# Largest amount a disposition accepts per unit: beyond it a figure is a typing error, not a valuation.
MAX_UNIT_AMOUNT = 1e9

# Unit status after the disposition, per treatment. Destroyed units wait for their destruction certificate.
STATE_AFTER_DISPOSITION = {
    "restock": "closed",
    "refurbish": "in_progress",
    "repair": "in_progress",
    "salvage": "closed",
    "destroy": "disposition",
}


class RmaLine(models.Model):
    """Disposition of an inspected unit (steps 4-5): where it goes, its entries, its repair order, and the end of
    its refurbishment or repair."""

    _inherit = "rma.line"

    disposition_id = fields.Many2one("rma.disposition", readonly=True, copy=False, index=True)
    disposition_treatment = fields.Selection(related="disposition_id.treatment", string="Treatment")
    disposition_destination = fields.Selection(related="disposition_id.destination", string="Destination")
    repair_level = fields.Selection(REPAIR_LEVELS, readonly=True, copy=False)
    net_realizable_value = fields.Monetary(
        currency_field="currency_id",
        readonly=True,
        copy=False,
        help="Estimated selling price after the work, less the costs to sell it.",
    )
    work_cost = fields.Monetary(currency_field="currency_id", string="Estimated Work Cost", readonly=True, copy=False)
    recovery_value = fields.Monetary(
        currency_field="currency_id",
        string="Residual Recovery Value",
        readonly=True,
        copy=False,
        help="Harvested parts, recycler rebate.",
    )
    book_value = fields.Monetary(
        currency_field="currency_id",
        readonly=True,
        copy=False,
        help="The unit's value in stock when it was disposed, as Odoo valued its move.",
    )
    carrying_value = fields.Monetary(
        currency_field="currency_id",
        readonly=True,
        copy=False,
        help="Value of a unit in refurbishment or repair: its book value, written down to its net realizable value.",
    )
    recovered_value = fields.Monetary(
        currency_field="currency_id",
        compute="_compute_recovered_value",
        store=True,
        help="What the disposition recovered: RTS its book value, REF/REP the net realizable value less the work"
        " cost, PH/REC the residual recovery value, SD nothing (the Recovery Value of the KPIs and of the batch).",
    )
    disposition_date = fields.Datetime(readonly=True, copy=False)
    work_finished_date = fields.Datetime(
        string="Work Finished On", readonly=True, copy=False, help="Its refurbishment or repair finished."
    )
    disposition_user_id = fields.Many2one("res.users", string="Disposed By", readonly=True, copy=False)
    disposition_note = fields.Text(readonly=True, copy=False)
    disposition_batch_id = fields.Many2one(
        "rma.disposition.batch",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The batch whose confirmation disposed the unit.",
    )
    disposition_valuation = fields.Selection(
        [("real_time", "Perpetual"), ("periodic", "Periodic")],
        string="Valuation",
        readonly=True,
        copy=False,
        help="Perpetual: Odoo posted the book value with the move, the addon the rest.\n"
        "Periodic: the stock closing aligns the stock accounts; the addon posted only the write-down, accrual and"
        " recovery lines.",
    )
    requires_certificate = fields.Boolean(related="disposition_id.requires_certificate")
    repair_id = fields.Many2one("repair.order", string="Repair Order", readonly=True, copy=False)
    can_be_disposed = fields.Boolean(compute="_compute_can_be_disposed")

    @api.depends("disposition_id.treatment", "book_value", "net_realizable_value", "work_cost", "recovery_value")
    def _compute_recovered_value(self):
        for line in self:
            line.recovered_value = line.disposition_id._get_recovered_value(
                line.book_value, line.net_realizable_value, line.work_cost, line.recovery_value
            )

    @api.depends("state", "inspection_id.state", "location_id", "is_substitution")
    def _compute_can_be_disposed(self):
        for line in self:
            line.can_be_disposed = not line._disposition_blocker()

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_open_disposition_wizard(self):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Disposition"),
            "res_model": "rma.disposition.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"active_model": self._name, "active_ids": self.ids},
        }

    def action_view_repair(self):
        return self.repair_id._get_records_action(name=self.env._("Repair Order"))

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

    def _ensure_in_refurbishment(self):
        """Refurbishments are finished or cancelled by Returns Inspectors, on units in refurbishment (repairs with
        their repair order)."""
        if not self.env.user.has_group("rma_recovery.group_rma_inspector"):
            raise AccessError(self.env._("Only Returns Inspectors finish or cancel refurbishments."))
        wrong = self.filtered(lambda line: line.state != "in_progress" or line.disposition_treatment != "refurbish")
        if wrong:
            raise UserError(
                self.env._(
                    "Only units in refurbishment can be finished or cancelled here (repairs with their repair"
                    " order): %s",
                    ", ".join(wrong.mapped("display_name")),
                )
            )

    # ------------------------------------------------------------------
    # Disposition
    # ------------------------------------------------------------------
    def _disposition_blocker(self):
        """Why this unit cannot be disposed now, or False."""
        self.ensure_one()
        if self.state != "inspection" or self.inspection_id.state != "done":
            return self.env._("%(unit)s has no finished inspection.", unit=self.display_name)
        if self.is_substitution:
            return self.env._("%(unit)s is held as a suspected substitution.", unit=self.display_name)
        quarantine = self.rma_id.warehouse_id.rma_quarantine_location_id
        if not quarantine or self.location_id != quarantine:
            return self.env._(
                "%(unit)s is not in quarantine (it is in %(location)s).",
                unit=self.display_name,
                location=self.location_id.display_name,
            )
        return False

    def _action_dispose(self, values, batch=None):
        """Dispose the units, all or nothing: ``values`` = {line id: {disposition_id, repair_level,
        net_realizable_value, work_cost, recovery_value, note}}, confirming ``batch`` (a draft
        rma.disposition.batch of these units); without one, the batch is recorded here, prepared and confirmed
        by the same manager (refused where the company requires two).

        Each unit moves to its code's location in one batch of moves (Odoo posts the book value of those that
        leave stock into a valued location), then the addon posts its entries, creates the repair orders and
        logs the custody events.
        """
        self._ensure_can_be_disposed(values)
        if batch is None:
            if any(self.company_id.mapped("rma_disposition_segregation")):
                raise UserError(
                    self.env._(
                        "%(company)s requires another manager to confirm a disposition: prepare a draft batch.",
                        company=", ".join(self.company_id.filtered("rma_disposition_segregation").mapped("name")),
                    )
                )
            batch = self.env["rma.disposition.batch"]._create_for_units(self, values)
        codes = self.env["rma.disposition"].browse({vals["disposition_id"] for vals in values.values()})
        destinations = {
            line: line._disposition_code(values)._get_destination(line.rma_id.warehouse_id) for line in self
        }
        self._check_disposition_accounts(values, destinations)
        now = fields.Datetime.now()
        vals_by_line = {}
        for line in self:
            vals = values[line.id]
            code = codes.browse(vals["disposition_id"])
            vals_by_line[line] = {
                "disposition_id": code.id,
                "repair_level": vals.get("repair_level") if code.treatment == "repair" else False,
                "net_realizable_value": vals.get("net_realizable_value", 0.0),
                "work_cost": vals.get("work_cost", 0.0),
                "recovery_value": vals.get("recovery_value", 0.0),
                "disposition_note": vals.get("note"),
                "disposition_date": now,
                "disposition_user_id": self.env.uid,
                "disposition_batch_id": batch.id,
                "disposition_valuation": line.product_id.valuation,
            }
        self._workflow()._write_each(vals_by_line)
        notes = {
            line: f"{line.disposition_id.display_name} {dict(REPAIR_LEVELS)[line.repair_level]}"
            if line.repair_level
            else line.disposition_id.display_name
            for line in self
        }
        moves = self._action_move_to(destinations, event_type="disposition", note=notes)
        self._set_book_values(moves)
        entries = self._post_disposition_entries(batch.name)
        self.filtered(lambda line: line.disposition_treatment == "repair")._create_repair_orders()
        for state, lines in self.grouped(lambda line: STATE_AFTER_DISPOSITION[line.disposition_treatment]).items():
            lines._transition(state)
        # Destroyed, recycled or harvested: the serial must never come back into stock (reactivation block).
        self.env["stock.lot"]._rma_block(
            self.filtered(lambda line: line.disposition_treatment in ("salvage", "destroy"))
        )
        for rma, lines in self.grouped("rma_id").items():
            rma.message_post(
                body=self.env._(
                    "Disposition %(batch)s: %(units)s",
                    batch=batch.name,
                    units=", ".join(f"{line.display_name} → {line.disposition_id.code}" for line in lines),
                )
            )
        batch._record_confirmation(moves, entries)
        return moves

    def _disposition_code(self, values):
        self.ensure_one()
        return self.env["rma.disposition"].browse(values[self.id]["disposition_id"])

    def _ensure_can_be_disposed(self, values):
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(self.env._("Only Returns Managers confirm dispositions."))
        if not self:
            raise UserError(self.env._("Select the units to dispose."))
        if not isinstance(values, dict) or not all(isinstance(vals, dict) for vals in values.values()):
            raise UserError(self.env._("Give each unit its disposition values."))
        codes = (
            self.env["rma.disposition"]
            .browse({(values.get(line.id) or {}).get("disposition_id") for line in self} - {None, False})
            .exists()
        )
        for line in self:
            blocker = line._disposition_blocker()
            if blocker:
                raise UserError(blocker)
            vals = values.get(line.id) or {}
            code = codes.filtered(lambda code, vals=vals: code.id == vals.get("disposition_id"))
            if not code:
                raise UserError(self.env._("Choose a disposition code for %(unit)s.", unit=line.display_name))
            if code.company_id and code.company_id != line.company_id:
                raise UserError(
                    self.env._(
                        "Disposition %(code)s belongs to another company than %(unit)s.",
                        code=code.display_name,
                        unit=line.display_name,
                    )
                )
            amounts = {
                self.env._("net realizable value"): vals.get("net_realizable_value") or 0.0,
                self.env._("work cost"): vals.get("work_cost") or 0.0,
                self.env._("recovery value"): vals.get("recovery_value") or 0.0,
            }
            wrong = [
                name
                for name, amount in amounts.items()
                if not isinstance(amount, (int, float))
                or not math.isfinite(amount)
                or not 0 <= amount <= MAX_UNIT_AMOUNT
            ]
            if wrong:
                raise UserError(
                    self.env._(
                        "%(unit)s: the %(amounts)s must be an amount between 0 and %(max)s.",
                        unit=line.display_name,
                        amounts=", ".join(wrong),
                        max=f"{MAX_UNIT_AMOUNT:,.0f}",
                    )
                )
            if vals.get("repair_level") and vals["repair_level"] not in dict(REPAIR_LEVELS):
                raise UserError(self.env._("%(unit)s: the repair level is L1, L2, L3 or L4.", unit=line.display_name))
            if vals.get("note") and not isinstance(vals["note"], str):
                raise UserError(self.env._("%(unit)s: the note must be text.", unit=line.display_name))
            if code.treatment in WORK_TREATMENTS and not vals.get("net_realizable_value"):
                raise UserError(
                    self.env._(
                        "%(unit)s: enter the net realizable value of the unit once %(treatment)s.",
                        unit=line.display_name,
                        treatment=self.env._("refurbished")
                        if code.treatment == "refurbish"
                        else self.env._("repaired"),
                    )
                )
            blocker = line._sanitization_blocker(code)
            if blocker:
                raise UserError(blocker)
            if code.treatment == "repair" and not vals.get("repair_level"):
                raise UserError(self.env._("%(unit)s: choose the repair level (L1-L4).", unit=line.display_name))

    def _check_disposition_accounts(self, values, destinations):
        """Every account a unit's entries need exists, and its destination location posts to the code's account:
        a configuration error is reported before anything is written."""
        account_labels = {
            "location": self.env._("destination account"),
            "writedown": self.env._("returns write-down account"),
            "work_cost": self.env._("refurbishment/repair cost account"),
            "accrued_cost": self.env._("accrued refurbishment/repair costs account"),
            "income": self.env._("recovery income account"),
            "recovery": self.env._("recovery receivable account"),
            "nrv_allowance": self.env._("NRV allowance account"),
            "cost_variance": self.env._("standard cost variance account"),
        }
        for line in self:
            vals = values[line.id]
            code = line._disposition_code(values)
            needed = code._required_accounts(
                vals.get("work_cost") or 0.0,
                vals.get("recovery_value") or 0.0,
                standard_cost=line.product_id.cost_method == "standard",
            )
            if not needed:
                continue
            accounts = code._get_accounts(line.product_id, line.company_id)
            missing = [account_labels[name] for name in needed if not accounts[name]]
            if missing:
                raise UserError(
                    self.env._(
                        "Disposition %(code)s has no %(accounts)s in %(company)s: set it on the code"
                        " (Inventory > Configuration > Returns > Dispositions).",
                        code=code.display_name,
                        accounts=", ".join(missing),
                        company=line.company_id.name,
                    )
                )
            location = destinations[line]
            location_account = location.sudo().valuation_account_id
            if location_account and location_account != accounts["location"]:
                raise UserError(
                    self.env._(
                        "%(location)s posts to %(location_account)s but disposition %(code)s expects %(account)s:"
                        " make them the same.",
                        location=location.display_name,
                        location_account=location_account.display_name,
                        code=code.display_name,
                        account=accounts["location"].display_name,
                    )
                )
            if not location_account:
                # First disposition into this location: it posts to the code's account from now on (the
                # perpetual entries at each move, the periodic closing's reclassification).
                location.sudo().valuation_account_id = accounts["location"]

    def _set_book_values(self, moves):
        """The book value is what Odoo valued the move out of stock at (the receipt's value for units that stay in
        stock); units in work carry it down to their net realizable value."""
        move_by_line = {move.rma_line_id: move for move in moves}
        vals_by_line = {}
        for line in self:
            if line.disposition_treatment == "restock":
                book_value = line.receipt_value
            else:
                book_value = move_by_line[line].value
            vals_by_line[line] = {"book_value": book_value}
            if line.disposition_treatment in WORK_TREATMENTS:
                vals_by_line[line]["carrying_value"] = min(book_value, line.net_realizable_value)
        self._workflow()._write_each(vals_by_line)

    def _create_repair_orders(self):
        """A confirmed repair order per unit to repair: from the Repair WIP location to graded stock."""
        if not self:
            return
        vals_list = []
        for line in self:
            warehouse = line.rma_id.warehouse_id
            if not warehouse.repair_type_id:
                raise UserError(
                    self.env._(
                        "Warehouse %(warehouse)s has no repair operation type.", warehouse=warehouse.display_name
                    )
                )
            vals_list.append(
                {
                    "product_id": line.product_id.id,
                    "product_uom": line.product_uom_id.id,
                    "product_qty": line.quantity_received,
                    "lot_id": line.lot_id.id,
                    "partner_id": line.rma_id.partner_id.id,
                    "company_id": line.company_id.id,
                    "picking_type_id": warehouse.repair_type_id.id,
                    "product_location_src_id": line.location_id.id,
                    "product_location_dest_id": warehouse.rma_graded_location_id.id,
                    "under_warranty": line.warranty_state == "in_warranty",
                    "internal_notes": self.env._(
                        "%(rma)s, level %(level)s. %(note)s",
                        rma=line.rma_id.name,
                        level=dict(REPAIR_LEVELS)[line.repair_level],
                        note=line.disposition_note or "",
                    ),
                    "rma_line_id": line.id,
                }
            )
        repairs = self.env["repair.order"].sudo().create(vals_list)
        repairs._action_repair_confirm()
        for line, repair in zip(self._workflow(), repairs, strict=True):
            line.repair_id = repair

    # ------------------------------------------------------------------
    # End of the work: Refurbishment Finished, or the unit's repair order done (repair.order.action_repair_done)
    # ------------------------------------------------------------------
    def _prepare_work_close(self, moves):
        """Value each unit's move out of WIP at its carrying value (before Odoo values it). Standard-cost products
        keep their standard price (Odoo values their stock at it); _finish_work books the difference."""
        self.env["product.value"].sudo().create(
            [
                {"move_id": move.id, "value": move.rma_line_id.carrying_value, "company_id": move.company_id.id}
                for move in moves
                if move.product_id.cost_method != "standard"
            ]
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
        self.env["product.value"].sudo().create(
            [
                {"move_id": move.id, "value": move.rma_line_id.book_value, "company_id": move.company_id.id}
                for move in moves
                if move.product_id.cost_method != "standard"
            ]
        )
        lines._validate_unit_moves(moves)
        lines.sudo()._post_work_cancel_entries(moves)
        self.env["rma.custody.event"].sudo().create(
            [
                {
                    "line_id": move.rma_line_id.id,
                    "event_type": "move",
                    "location_id": move.location_id.id,
                    "location_dest_id": move.location_dest_id.id,
                    "note": note,
                }
                for move in moves
            ]
        )
        workflow = lines._workflow()
        for location, location_lines in workflow.grouped(lambda line: quarantine[line]).items():
            location_lines.location_id = location
        # The unit's current disposition is undone (its batch keeps the record of it).
        workflow.write(dict.fromkeys(DISPOSITION_FIELDS, False))
        lines._transition("inspection", note=note)

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
        # Whoever moves the unit (a salesperson's delivery, warehouse staff) need not read journal items.
        lines.sudo()._post_allowance_release()
        if not logged:
            self.env["rma.custody.event"].sudo().create(
                [
                    {
                        "line_id": line.id,
                        # Out to a customer (a sale, a repaired unit shipped back) it is a shipment.
                        "event_type": "shipment"
                        if move_by_lot[line.lot_id].location_dest_id.usage == "customer"
                        else "move",
                        "location_id": move_by_lot[line.lot_id].location_id.id,
                        "location_dest_id": move_by_lot[line.lot_id].location_dest_id.id,
                        "note": move_by_lot[line.lot_id].reference,
                    }
                    for line in lines
                ]
            )
            for destination, destination_lines in lines.grouped(
                lambda line: move_by_lot[line.lot_id].location_dest_id
            ).items():
                destination_lines._workflow().location_id = destination
        shipped_back = lines.filtered(lambda line: move_by_lot[line.lot_id].rma_remedy_line_id == line)
        if shipped_back:
            shipped_back._transition("closed", note=self.env._("Shipped back to the customer"))
        if lines - shipped_back:
            (lines - shipped_back)._transition("closed", note=self.env._("Left graded stock"))

    def _close_destroyed(self, note):
        """The units' secure destruction (SD) is certified: their path ends. The one method the destruction
        certificate calls once it is issued; ``note`` names the certificate in the custody event."""
        waiting = self.filtered(
            lambda line: (
                line.state == "disposition"
                and (not line.company_id.rma_sanitization_rules or line.sudo()._sanitized_with(("destroy",)))
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

    def _finish_work(self, moves):
        """The units' work is finished: they are in graded stock, ready for remarketing."""
        lines = moves.rma_line_id.sudo()
        lines._post_work_close_entries(moves)
        self.env["rma.custody.event"].sudo().create(
            [
                {
                    "line_id": move.rma_line_id.id,
                    "event_type": "move",
                    "location_id": move.location_id.id,
                    "location_dest_id": move.location_dest_id.id,
                    "note": self.env._("Repair %(repair)s done", repair=move.rma_line_id.repair_id.name)
                    if move.rma_line_id.repair_id
                    else self.env._("Refurbishment finished"),
                }
                for move in moves
            ]
        )
        for destination, destination_moves in moves.grouped("location_dest_id").items():
            destination_moves.rma_line_id.sudo()._workflow().location_id = destination
        lines._workflow().work_finished_date = fields.Datetime.now()
        lines._transition("ready")
