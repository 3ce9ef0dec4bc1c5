from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from .rma_disposition import REPAIR_LEVELS
from .rma_workflow_guard import INSPECTOR_GROUP, server_write

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
        if not self.env.user.has_group(INSPECTOR_GROUP):
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
        self.env["rma.custody.event"]._log(lines, "move", destination=quarantine, note=note)
        lines._set_location(quarantine)
        # The unit's current disposition is undone (its batch keeps the record of it).
        server_write(lines, dict.fromkeys(DISPOSITION_FIELDS, False))
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
