from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError

from .rma_disposition import REPAIR_LEVELS, WORK_TREATMENTS
from .rma_workflow_guard import (
    ensure_workflow_fields,
    is_server_write,
    server_create,
    server_owned,
    server_write,
)


class RmaDispositionBatchLine(models.Model):
    _name = "rma.disposition.batch.line"
    _inherit = ["rma.disposition.values.mixin"]
    _description = "Disposition Batch Unit"
    _order = "batch_id, id"
    _check_company_auto = True

    batch_id = fields.Many2one("rma.disposition.batch", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="batch_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="batch_id.currency_id")
    state = fields.Selection(related="batch_id.state")
    unit_id = fields.Many2one(index=True)
    book_value = fields.Monetary(
        currency_field="currency_id",
        compute="_compute_book_value",
        store=True,
        readonly=True,
        help="Draft: the unit's book value now, the value Odoo gave its receipt (what it is carried at in"
        " quarantine). Done: its value when the batch was confirmed, as Odoo valued its move, kept as recorded.",
    )
    recovered_value = fields.Monetary(
        currency_field="currency_id",
        string="Recovery Value",
        compute="_compute_recovered_value",
        help="What the disposition recovers: RTS the book value, REF/REP the net realizable value less the work"
        " cost, PH/REC the residual recovery value, SD nothing (the rule of the recovery KPI).",
    )
    is_disposed = fields.Boolean(
        string="Disposed",
        readonly=True,
        copy=False,
        index=True,
        help="The unit is disposed: moved, posted and logged by the batch's confirmation (a large batch's background"
        " job disposes its units a chunk at a time, skipping those already disposed).",
    )
    move_id = fields.Many2one(
        "stock.move", string="Stock Move", compute="_compute_move_id", help="The unit's move made by the confirmation."
    )
    location_dest_id = fields.Many2one(
        "stock.location",
        string="Destination",
        compute="_compute_location_dest_id",
        help="Where the unit goes: its code's location in the unit's warehouse.",
    )

    # Not on unit_id.receipt_value: that chain would search the batch lines at each stock move valued by a receipt
    # (two queries per unit received). A line is added once its unit is received, when that value is known;
    # confirming the batch records the value of the disposition move.
    @api.depends("unit_id")
    def _compute_book_value(self):
        for line in self:
            # A confirmed batch keeps the value its confirmation recorded (_record_confirmation).
            line.book_value = line.book_value if line.state == "done" else line.unit_id.receipt_value

    @api.depends("batch_id.move_ids", "unit_id")
    def _compute_move_id(self):
        for batch, lines in self.grouped("batch_id").items():
            move_by_unit = {move.rma_line_id: move for move in batch.move_ids}
            for line in lines:
                line.move_id = move_by_unit.get(line.unit_id, False)

    @api.depends("disposition_id.destination", "unit_id.rma_id.warehouse_id")
    def _compute_location_dest_id(self):
        for line in self:
            destination = line.disposition_id.destination
            line.location_dest_id = line.unit_id.rma_id.warehouse_id[destination] if destination else False

    @api.depends("disposition_id.treatment", "book_value", "net_realizable_value", "work_cost", "recovery_value")
    def _compute_recovered_value(self):
        for line in self:
            # The same rule as the unit's recovered value, which the recovery KPI reads (rma.kpi.unit).
            line.recovered_value = line.disposition_id._get_recovered_value(
                line.book_value, line.net_realizable_value, line.work_cost, line.recovery_value
            )

    @api.model_create_multi
    def create(self, vals_list):
        self._check_input_shape(vals_list)
        ensure_workflow_fields(self, {name for vals in vals_list for name in vals})
        no_code = [vals for vals in vals_list if not vals.get("disposition_id")]
        if no_code:
            units = self.env["rma.line"].browse([vals.get("unit_id") for vals in no_code if vals.get("unit_id")])
            raise UserError(
                self.env._(
                    "Choose a disposition code for %(units)s.",
                    units=", ".join(units.exists().mapped("display_name")) or self.env._("each unit"),
                )
            )
        self.check_access("create")  # Returns Inspectors and Managers
        if not is_server_write(self.env):
            batches = self.env["rma.disposition.batch"].browse({vals.get("batch_id") for vals in vals_list} - {None})
            batches._ensure_draft()
            batches._ensure_preparer_edits()
        return super().create(vals_list)

    def write(self, vals):
        ensure_workflow_fields(self, vals)
        if not is_server_write(self.env):
            self.batch_id._ensure_draft()
            self.batch_id._ensure_preparer_edits()
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_confirmed(self):
        self.batch_id.filtered(lambda batch: batch.state in ("queued", "done"))._ensure_draft()
        self.batch_id._ensure_preparer_edits()

    # ------------------------------------------------------------------
    # Confirmation, run by the batch (rma.disposition.batch.action_confirm)
    # ------------------------------------------------------------------
    def _ensure_can_be_disposed(self):
        """Each unit can be disposed with its code and values: refused before anything is written."""
        for line in self:
            unit, code = line.unit_id, line.disposition_id
            blocker = unit._disposition_blocker()
            if blocker:
                raise UserError(blocker)
            if code.company_id and code.company_id != unit.company_id:
                raise UserError(
                    self.env._(
                        "Disposition %(code)s belongs to another company than %(unit)s.",
                        code=code.display_name,
                        unit=unit.display_name,
                    )
                )
            if code.treatment in WORK_TREATMENTS and not line.net_realizable_value:
                raise UserError(
                    self.env._(
                        "%(unit)s: enter the net realizable value of the unit once %(treatment)s.",
                        unit=unit.display_name,
                        treatment=self.env._("refurbished")
                        if code.treatment == "refurbish"
                        else self.env._("repaired"),
                    )
                )
            blocker = unit._sanitization_blocker(code)
            if blocker:
                raise UserError(blocker)
            if code.treatment == "repair" and not line.repair_level:
                raise UserError(self.env._("%(unit)s: choose the repair level (L1-L4).", unit=unit.display_name))
            if not line.location_dest_id:
                code._get_destination(unit.rma_id.warehouse_id)  # raises, naming the location to set
        self._check_accounts()

    def _check_accounts(self):
        """Every account a unit's entries need exists, and its destination location posts to the code's account: a
        configuration error is reported before anything is written."""
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
            code, product, company = line.disposition_id, line.unit_id.product_id, line.unit_id.company_id
            needed = code._required_accounts(
                line.work_cost, line.recovery_value, standard_cost=product.cost_method == "standard"
            )
            if not needed:
                continue
            accounts = code._get_accounts(product, company)
            missing = [account_labels[name] for name in needed if not accounts[name]]
            if missing:
                raise UserError(
                    self.env._(
                        "Disposition %(code)s has no %(accounts)s in %(company)s: set it on the code"
                        " (Inventory > Configuration > Returns > Dispositions).",
                        code=code.display_name,
                        accounts=", ".join(missing),
                        company=company.name,
                    )
                )
            location_account = line.location_dest_id.valuation_account_id
            if location_account and location_account != accounts["location"]:
                raise UserError(
                    self.env._(
                        "%(location)s posts to %(location_account)s but disposition %(code)s expects %(account)s:"
                        " make them the same.",
                        location=line.location_dest_id.display_name,
                        location_account=location_account.display_name,
                        code=code.display_name,
                        account=accounts["location"].display_name,
                    )
                )

    def _set_location_accounts(self):
        """A location receiving its first disposition posts to the code's account from then on (the perpetual entries
        at each move, the periodic closing's reclassification)."""
        for line in self:
            location = line.location_dest_id
            if location.valuation_account_id or not line.disposition_id._required_accounts(
                line.work_cost, line.recovery_value, standard_cost=line.unit_id.product_id.cost_method == "standard"
            ):
                continue
            accounts = line.disposition_id._get_accounts(line.unit_id.product_id, line.unit_id.company_id)
            location.sudo().valuation_account_id = accounts["location"]  # a stock setting a manager may not write

    def _write_unit_dispositions(self):
        """The decision, recorded on each unit (the fields its later steps and the KPIs read)."""
        now = fields.Datetime.now()
        vals_by_unit = {
            line.unit_id: {
                "disposition_id": line.disposition_id.id,
                "repair_level": line.repair_level if line.treatment == "repair" else False,
                "net_realizable_value": line.net_realizable_value,
                "work_cost": line.work_cost,
                "recovery_value": line.recovery_value,
                "disposition_note": "\n".join(filter(None, [line.note, line.batch_id.note])) or False,
                "disposition_date": now,
                "disposition_user_id": self.env.uid,
                "disposition_batch_id": line.batch_id.id,
                "disposition_valuation": line.unit_id.product_id.valuation,
            }
            for line in self
        }
        server_owned(self.unit_id)._write_each(vals_by_unit)  # server-owned fields, after the batch's guard

    def _prepare_stock_move_vals(self):
        return [line.unit_id._prepare_custody_move_vals(line.location_dest_id) for line in self]

    def _record_moves(self, moves):
        """The book value is what Odoo valued the move out of stock at (the receipt's value for units that stay in
        stock); units in work carry it down to their net realizable value. Kept on the line and on the unit."""
        move_by_unit = {move.rma_line_id: move for move in moves}
        line_ids_by_value = defaultdict(list)
        vals_by_unit = {}
        for line in self:
            move = move_by_unit.get(line.unit_id)
            book_value = move.value if move and line.treatment != "restock" else line.unit_id.receipt_value
            line_ids_by_value[book_value].append(line.id)
            vals_by_unit[line.unit_id] = {"book_value": book_value}
            if line.treatment in WORK_TREATMENTS:
                vals_by_unit[line.unit_id]["carrying_value"] = min(book_value, line.net_realizable_value)
        # The record of the confirmation, server-owned: one write per distinct value.
        for book_value, line_ids in line_ids_by_value.items():
            server_write(self.browse(line_ids), {"book_value": book_value})
        server_owned(self.unit_id)._write_each(vals_by_unit)

    def _prepare_account_move_line_vals(self, analytic_cache=None):
        """The addon's side of the unit's disposition (contract): write-down to the net realizable value and work cost
        accrual (refurbish, repair), recovery income (harvest, recycle). Odoo posts the book value with the move. The
        same lines in perpetual and periodic valuation: none touches a stock valuation account."""
        self.ensure_one()
        unit, code = self.unit_id, self.disposition_id
        accounts = code._get_accounts(unit.product_id, unit.company_id)
        items = self.env["account.move.line"]
        label = items._rma_label(unit, items._rma_disposition_code(unit))
        currency = unit.company_id.currency_id
        vals = []
        if code.treatment in WORK_TREATMENTS:
            writedown = unit.book_value - unit.carrying_value
            if currency.compare_amounts(writedown, 0.0) > 0:
                vals += items._rma_entry_line_vals(
                    unit, accounts["writedown"], accounts["location"], writedown, label, analytic_cache=analytic_cache
                )
            if currency.compare_amounts(unit.work_cost, 0.0) > 0:
                vals += items._rma_entry_line_vals(
                    unit,
                    accounts["work_cost"],
                    accounts["accrued_cost"],
                    unit.work_cost,
                    label,
                    analytic_cache=analytic_cache,
                )
        elif code.treatment == "salvage" and currency.compare_amounts(unit.recovery_value, 0.0) > 0:
            vals += items._rma_entry_line_vals(
                unit,
                accounts["recovery"],
                accounts["income"],
                unit.recovery_value,
                label,
                analytic_cache=analytic_cache,
            )
        return vals

    def _custody_note(self):
        self.ensure_one()
        level = dict(REPAIR_LEVELS).get(self.repair_level) if self.treatment == "repair" else False
        return f"{self.disposition_id.display_name} {level}" if level else self.disposition_id.display_name

    def _create_repair_orders(self):
        """A confirmed repair order per unit to repair: from the Repair WIP location to graded stock."""
        if not self:
            return
        vals_list = []
        for line in self:
            unit = line.unit_id
            warehouse = unit.rma_id.warehouse_id
            if not warehouse.repair_type_id:
                raise UserError(
                    self.env._(
                        "Warehouse %(warehouse)s has no repair operation type.", warehouse=warehouse.display_name
                    )
                )
            vals_list.append(
                {
                    "product_id": unit.product_id.id,
                    "product_uom": unit.product_uom_id.id,
                    "product_qty": unit.quantity_received,
                    "lot_id": unit.lot_id.id,
                    "partner_id": unit.rma_id.partner_id.id,
                    "company_id": unit.company_id.id,
                    "picking_type_id": warehouse.repair_type_id.id,
                    "product_location_src_id": unit.location_id.id,
                    "product_location_dest_id": warehouse.rma_graded_location_id.id,
                    "under_warranty": unit.warranty_state == "in_warranty",
                    "internal_notes": self.env._(
                        "%(rma)s, level %(level)s. %(note)s",
                        rma=unit.rma_id.name,
                        level=dict(REPAIR_LEVELS)[unit.repair_level],
                        note=unit.disposition_note or "",
                    ),
                    "rma_line_id": unit.id,
                }
            )
        # Repair orders link to their unit (server-owned); Returns Managers are stock users, who create repairs.
        repairs = server_create(self.env["repair.order"], vals_list)
        repairs._action_repair_confirm()
        server_owned(self.unit_id)._write_each(
            {unit: {"repair_id": repair.id} for unit, repair in zip(self.unit_id, repairs, strict=True)}
        )
