from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.stock_account.models.stock_move import VALUATION_DICT

from .rma_server_context import server_context, server_value
from .rma_workflow_guard import ensure_workflow_fields, server_owned


class StockMove(models.Model):
    _inherit = "stock.move"

    rma_line_id = fields.Many2one("rma.line", string="RMA Unit", index="btree_not_null", copy=False, readonly=True)
    # A delivery that is a unit's remedy: a replacement, or the repaired unit shipped back (not the unit's own
    # custody move: that is rma_line_id).
    rma_remedy_line_id = fields.Many2one(
        "rma.line", string="Remedy of RMA Unit", index="btree_not_null", copy=False, readonly=True
    )

    # A part harvested from a unit disposed to parts harvest, into stock (rma.harvest.wizard).
    rma_harvest_line_id = fields.Many2one(
        "rma.line", string="Harvested from RMA Unit", index="btree_not_null", copy=False, readonly=True
    )

    # The manual values of a unit's move (stock_account's product.value), read for many moves at once.
    rma_manual_value_ids = fields.One2many("product.value", "move_id", string="Manual Values", readonly=True)
    rma_has_manual_value = fields.Boolean(
        compute="_compute_rma_has_manual_value",
        compute_sudo=True,  # valuation records, which only a stock manager reads
    )

    @api.depends("rma_manual_value_ids")
    def _compute_rma_has_manual_value(self):
        for move in self:
            move.rma_has_manual_value = bool(move.rma_manual_value_ids)

    @api.depends("rma_line_id.rma_id.name", "rma_harvest_line_id.rma_id.name")
    def _compute_reference(self):  # pylint: disable=missing-return
        # A returned unit's moves carry the RMA number as their reference (and so the labels of the journal entries
        # stock_account builds from it), those of its receipt picking too: the number follows the unit everywhere.
        rma_moves = self.filtered(lambda move: (move.rma_line_id or move.rma_harvest_line_id).rma_id.name)
        for move in rma_moves:
            move.reference = (move.rma_line_id or move.rma_harvest_line_id).rma_id.name
        super(StockMove, self - rma_moves)._compute_reference()

    def _get_valued_qty(self, lot=None):
        # A receipt batch values each returned unit from its original delivery move (stock_account's
        # _get_value_from_returns), which re-reads all the delivery's move lines for every unit: for a
        # delivery of 1,000 serials that is quadratic. The batch computes each delivery's valued quantity
        # once and passes it here (rma_valued_qty: {move id: quantity}, server-only: a client cannot forge it).
        known = server_value(self.env, "rma_valued_qty") if lot is None else None
        if known and self.id in known:
            return known[self.id]
        return super()._get_valued_qty(lot=lot)

    def _action_done(self, cancel_backorder=False):
        self._check_rma_reactivation_block()
        moves = super()._action_done(cancel_backorder=cancel_backorder)
        # A remarketed unit taken out of graded stock by Odoo's own flows (a delivery, a scrap, a transfer) ends its
        # path: its method decides (rma.line._leave_graded_stock). The addon's own moves call it themselves.
        leaving = moves.filtered(lambda move: not move.rma_line_id)._rma_leaving_graded_stock()
        remedies = moves.filtered(lambda move: move.rma_remedy_line_id and move.state == "done")
        if not (leaving or remedies):
            return moves
        # The units' own steps after Odoo validated the moves, whoever validates (an Inventory user need not read
        # returned units or journal items): as superuser.
        su_env = moves.sudo().env
        self.env["rma.order"].with_env(su_env)._rma_notify("remedy_done", remedies.with_env(su_env).rma_remedy_line_id)
        if leaving:
            units = self.env["rma.line"].with_env(su_env)
            units = units.search([("state", "=", "ready"), ("lot_id", "in", leaving.move_line_ids.lot_id.ids)])
            units._leave_graded_stock(leaving.with_env(su_env))
        if remedies:
            remedies = remedies.with_env(su_env)
            remedies._rma_post_remedy_delivery_entries()
        return moves

    def _check_rma_reactivation_block(self):
        """No move puts a blocked serial (a unit destroyed, recycled or harvested) back into stock or delivers it:
        not a delivery, a receipt (a typed serial too) or an inventory adjustment."""
        move_lines = self.move_line_ids.filtered(
            lambda ml: ml.location_dest_id.usage in ("internal", "transit", "customer") and ml.quantity
        )
        blocked = move_lines.lot_id.filtered("is_rma_blocked")
        typed = move_lines.filtered(lambda ml: not ml.lot_id and ml.lot_name)
        if typed:
            blocked |= self.env["stock.lot"].search(
                [
                    ("is_rma_blocked", "=", True),
                    ("product_id", "in", typed.product_id.ids),
                    ("name", "in", typed.mapped("lot_name")),
                ]
            )
        if blocked:
            rmas = ", ".join(dict.fromkeys(filter(None, blocked.mapped("rma_block_reference"))))
            if len(blocked) == 1:
                message = self.env._(
                    "Serial number %(serial)s is blocked: its unit was destroyed, recycled or harvested (%(rmas)s)."
                    " It cannot come back into stock or be delivered unless a Returns Manager lifts the block on"
                    " the serial number.",
                    serial=blocked.name,
                    rmas=rmas,
                )
            else:
                message = self.env._(
                    "Serial numbers %(serials)s are blocked: their units were destroyed, recycled or harvested"
                    " (%(rmas)s). They cannot come back into stock or be delivered unless a Returns Manager lifts"
                    " the block on their serial numbers.",
                    serials=", ".join(blocked.mapped("name")),
                    rmas=rmas,
                )
            raise UserError(message)

    def _rma_leaving_graded_stock(self):
        """The done moves out of a warehouse's Graded / Remarketing location (or below it), with serials."""
        leaving = self.browse()
        for move in self.filtered(lambda move: move.state == "done" and move.location_id.usage == "internal"):
            graded = move.location_id.warehouse_id.rma_graded_location_id
            if (
                graded
                and move.location_id._child_of(graded)
                and not move.location_dest_id._child_of(graded)
                and move.move_line_ids.lot_id
            ):
                leaving |= move
        return leaving

    @api.model
    def _prepare_merge_moves_distinct_fields(self):
        # A remedy delivery keeps one move per unit (a replacement, a repaired unit shipped back): Odoo would merge
        # the moves of two units of the same product at confirmation, and one unit would lose its delivery.
        return [*super()._prepare_merge_moves_distinct_fields(), "rma_remedy_line_id"]

    def _prepare_move_split_vals(self, qty):
        # The rest of a unit's move split off (an untracked unit received in part, a remedy delivered in part and
        # its backorder) is still that unit's.
        vals = super()._prepare_move_split_vals(qty)
        if self.rma_line_id:
            vals["rma_line_id"] = self.rma_line_id.id
        if self.rma_remedy_line_id:
            vals["rma_remedy_line_id"] = self.rma_remedy_line_id.id
        return vals

    def _create_backorder(self):
        # The part of a unit's move split off (the rest of an untracked unit received in part, of a remedy delivered
        # in part) keeps the unit's link (_prepare_move_split_vals), a field only the server writes: whoever
        # validates, the server's step.
        linked = self.filtered(lambda move: move.rma_line_id or move.rma_remedy_line_id)
        if not linked:
            return super()._create_backorder()
        backorder_moves = super(StockMove, self - linked)._create_backorder()
        return backorder_moves | super(StockMove, server_owned(linked))._create_backorder().with_env(self.env)

    # ------------------------------------------------------------------
    # An RMA's receipt (stock.picking._rma_receive)
    # ------------------------------------------------------------------
    def _rma_hold_at_zero(self, release=False):
        """A suspected substitution enters stock at zero value until a manager resolves it (accounting contract): a
        manual value of zero on its receipt move, removed (``release``) when the substitution is accepted, so that
        Odoo values the move again."""
        # Valuation records (product.value), which only a stock manager writes: the receipt's step, after its guard.
        values = self.env["product.value"].sudo()
        if release:
            values.search([("move_id", "in", self.ids)]).unlink()
        else:
            values.create(
                [{"move_id": move.id, "value": 0.0, "company_id": move.company_id.id} for move in self if move.value]
            )

    def _rma_value_accepted_substitutions(self):
        """Accounting contract: the receipt moves of accepted substitutions are re-linked to the delivery of the
        serial that came in (when we shipped it), and revalued by Odoo from it (or from the product's cost)."""
        deliveries = self.env["stock.move.line"].search(
            [
                ("lot_id", "in", self.rma_line_id.lot_id.ids),
                ("state", "=", "done"),
                ("location_dest_id.usage", "=", "customer"),
                ("move_id.is_out", "=", True),
            ],
            order="date desc, id desc",
        )
        latest_delivery = {}
        for move_line in deliveries:
            latest_delivery.setdefault(move_line.lot_id, move_line.move_id)
        for move in self:
            origin = latest_delivery.get(move.rma_line_id.lot_id)
            if origin:
                # As authorized units are: valued from the delivery, and the sale order's delivered quantity
                # goes down.
                move.write(
                    {"origin_returned_move_id": origin.id, "sale_line_id": origin.sale_line_id.id, "to_refund": True}
                )
        self._rma_hold_at_zero(release=True)
        self._set_value()

    def _skip_push(self):
        # A returned unit goes exactly where the RMA flow sends it (quarantine, a handoff location): the
        # warehouse's push rules must not carry it on into sellable stock.
        return bool(self.rma_line_id) or super()._skip_push()

    def _should_be_assigned(self):
        # A returned unit's moves after its receipt (custody handoffs, disposition, end of work) are done on the
        # spot and belong to its RMA: Odoo must not gather them into transfers. Its receipt moves are created in
        # their picking.
        return not self.rma_line_id and super()._should_be_assigned()

    def _set_value(self, correction_quantity=None):
        if correction_quantity:
            return super()._set_value(correction_quantity=correction_quantity)
        adjust = self._rma_value_change_before()
        result = super()._set_value()
        self._rma_round_to_value_change(adjust)
        return result

    def _rma_value_change_before(self):
        """Accounting contract, invariant 1: the returned units leaving stock in one step move the ledger by what the
        product's stock value moves. Odoo values each unit's move to the cent, while a product's stock value (its
        FIFO queue, or its quantity at the average or standard cost) keeps the fractions of a cost that is not a whole
        number of cents and is rounded once: unit by unit, a step of several units drifts by a cent (more for large
        steps), and Odoo's entry with it. Read before Odoo values the moves, for each product whose outgoing moves
        here are all returned units' (the addon's steps; Odoo's own flows keep their values): [(its moves, its stock
        value before, unrounded, and after)]."""
        adjust = []
        if not any(move.rma_line_id for move in self):
            return adjust
        outgoing = self.filtered(lambda move: move.state != "done" and move._is_out())
        for product, moves in outgoing.grouped("product_id").items():
            if product.lot_valuated or not all(move.rma_line_id for move in moves):
                continue
            quantity = sum(move._get_valued_qty() for move in moves)
            on_hand = product._with_valuation_context().qty_available
            if product.uom_id.compare(quantity, 0) <= 0 or product.uom_id.compare(on_hand, quantity) < 0:
                continue  # nothing valued, or more than the stock: Odoo extrapolates, its values stand
            if product.cost_method == "fifo":
                # The queue's value, and what Odoo takes from it for all these moves together (as it values them one
                # after the other from the oldest cost): the same FIFO, unrounded.
                before = product._run_fifo(on_hand)
                after = before - product._run_fifo(quantity)
            else:
                before, after = on_hand * product.standard_price, (on_hand - quantity) * product.standard_price
            adjust.append((moves, before, after))
        return adjust

    def _rma_round_to_value_change(self, adjust):
        """The moves of each product read by _rma_value_change_before carry, together, the change of the product's
        stock value as Odoo rounds it (product.total_value, to the cent): the rounding's cent goes to the last one.
        Their book values and Odoo's entry follow."""
        for moves, before, after in adjust:
            currency = moves.company_id.currency_id[:1] or self.env.company.currency_id
            change = currency.round(before) - currency.round(after)
            difference = currency.round(change - sum(moves.mapped("value")))
            # Only the rounding: a cent per unit at most, and one for the stock value's own rounding.
            if (
                not currency.is_zero(difference)
                and currency.compare_amounts(abs(difference), currency.rounding * (len(moves) + 1)) <= 0
            ):
                moves[-1].value = currency.round(moves[-1].value + difference)

    def _get_manual_value(self, quantity, at_date=None):
        # Odoo looks up each move's manual value alone (one query per move). A returned unit's moves rarely have one
        # (a substitution held at zero, a unit leaving WIP at its carrying value): read them for all the moves valued
        # together at once (rma_has_manual_value is computed for the prefetched moves), and skip the lookup for the
        # others.
        if self.rma_line_id and not self.rma_has_manual_value:
            return dict(VALUATION_DICT)
        return super()._get_manual_value(quantity, at_date=at_date)

    @api.model_create_multi
    def create(self, vals_list):
        # The links to returned units are the server's (rma_workflow_guard): refused to a client's create.
        ensure_workflow_fields(self, {name for vals in vals_list for name in vals})
        moves = super().create(vals_list)
        # The move repair.order.action_repair_done makes of a returned unit, out of its Repair WIP, is the unit's
        # move: linked to it and valued at its carrying value before Odoo values it (the repair order then
        # finishes the unit, see repair.order).
        repaired = moves.filtered(lambda move: move.repair_id.rma_line_id and not move.repair_line_type)
        if repaired:
            # The unit's step, whoever finishes its repair order (a repair user need not read returned units).
            repaired.sudo()._rma_link_repaired_units()
        return moves

    def write(self, vals):
        ensure_workflow_fields(self, vals)
        return super().write(vals)

    def _rma_link_repaired_units(self):
        linked = self.browse()
        for move in self:
            line = move.repair_id.rma_line_id
            if line.state == "in_progress" and move.location_id == line.location_id:
                move.rma_line_id = line
                linked |= move
        linked.rma_line_id._prepare_work_close(linked)

    def _get_account_move_line_vals(self):
        # Odoo's own valuation lines of a returned unit carry its label (RMA, serial, code) and link to it.
        vals_list = super()._get_account_move_line_vals()
        line = self.rma_line_id.sudo()  # the unit's label, whoever validates (one need not read returned units)
        if line:
            items = self.env["account.move.line"]
            label = items._rma_label(line, items._rma_disposition_code(line))
            cache = server_value(self.env, "rma_analytic_cache", {})
            for vals in vals_list:
                account = self.env["account.account"].browse(vals["account_id"])
                vals.update(
                    {
                        "name": label,
                        "rma_line_id": line.id,
                        "rma_disposition_id": line.disposition_id.id,
                        "analytic_distribution": self.env["account.move.line"]._rma_analytic_distribution(
                            self.product_id, self.partner_id.commercial_partner_id, account, self.company_id, cache
                        ),
                    }
                )
        return vals_list

    def _should_bypass_reservation(self, forced_location=False):
        # A returned unit's own moves outside a transfer (custody handoffs, disposition, end of work) are created with
        # the unit's move line and done in the same call: reserving its quant first and releasing it at once would
        # only cost two quant updates per unit.
        if self.rma_line_id and not self.picking_id and not self.repair_id:
            return True
        return super()._should_bypass_reservation(forced_location=forced_location)

    def _create_account_move(self):
        # The valuation lines of returned units carry no analytic distribution to synchronise while the entry is
        # a draft; the distribution models still apply and the analytic lines are made when it is posted.
        if self and all(move.rma_line_id for move in self):
            moves = self.with_context(skip_analytic_sync=True, **server_context(rma_analytic_cache={}))
            return super(StockMove, moves)._create_account_move()
        return super()._create_account_move()

    # ------------------------------------------------------------------
    # Journal entries of the moves of returned units (accounting contract), posted by account.move._rma_create_entry
    # ------------------------------------------------------------------
    def _rma_post_receipt_entries(self):
        """Real-time valuation: Dr stock valuation / Cr COGS at the value Odoo gave each receipt move, for what no
        credit note allocated to the unit already reversed (rma.cogs.reversal._settle): one reversal per unit, in the
        company's RMA Dispositions journal, one entry per company and batch. Suspected substitutions are held at zero
        value and post nothing."""
        return self.env["rma.cogs.reversal"]._settle(self.rma_line_id)

    def _rma_post_work_close_entries(self):
        """The work is finished (contract, "work order closed"):

        - the unit leaves WIP at the value Odoo gave its move: its carrying value K, or the standard price S of a
          standard-cost product. For standard cost, WIP is emptied against the NRV allowance when S > K (the unit
          is carried at K, never above; the write-down is never reversed through its expense account) or
          against the standard cost variance when S < K;
        - the work cost accrued at disposition is settled: Dr accrued work costs / Cr work cost at the estimate
          (the actual cost is what Odoo posts for the parts the repair consumed, and any vendor bill), so the
          accrued liability holds nothing for the unit any more.

        Called as superuser (rma.line._finish_work): the units' values and accounts are the server's to read.
        """
        entries = self.env["account.move"]
        AccountMoveLine = self.env["account.move.line"]
        for company, company_moves in self.grouped("company_id").items():
            line_vals = []
            for move in company_moves:
                line = move.rma_line_id
                accounts = line.disposition_id._get_accounts(line.product_id, company)
                label = AccountMoveLine._rma_label(line, f"{AccountMoveLine._rma_disposition_code(line)} CLOSE")
                difference = move.value - line.carrying_value
                pairs = []
                if company.currency_id.compare_amounts(difference, 0.0) > 0:
                    pairs.append((accounts["location"], accounts["nrv_allowance"], difference))
                elif company.currency_id.compare_amounts(difference, 0.0) < 0:
                    pairs.append((accounts["cost_variance"], accounts["location"], -difference))
                if company.currency_id.compare_amounts(line.work_cost, 0.0) > 0:
                    pairs.append((accounts["accrued_cost"], accounts["work_cost"], line.work_cost))
                for debit, credit, amount in pairs:
                    line_vals += AccountMoveLine._rma_entry_line_vals(
                        line, debit, credit, amount, label, quantity=move.quantity
                    )
            entries |= self.env["account.move"]._rma_create_entry(
                company, line_vals, ", ".join(company_moves.rma_line_id.rma_id.mapped("name"))
            )
        return entries

    def _rma_post_work_cancel_entries(self):
        """The work is cancelled: the unit is back in quarantine at the value Odoo gave its move (its book value,
        or the standard price). The disposition's write-down (Dr WIP / Cr write-down) and work cost accrual (Dr
        accrued work costs / Cr work cost) are reversed, and a standard price changed since goes to the standard
        cost variance, so that WIP holds nothing for the unit. Called as superuser (rma.line._cancel_work)."""
        entries = self.env["account.move"]
        AccountMoveLine = self.env["account.move.line"]
        for company, company_moves in self.grouped("company_id").items():
            line_vals = []
            currency = company.currency_id
            for move in company_moves:
                line = move.rma_line_id
                accounts = line.disposition_id._get_accounts(line.product_id, company)
                label = AccountMoveLine._rma_label(line, f"{AccountMoveLine._rma_disposition_code(line)} CANCEL")
                pairs = []
                writedown = line.book_value - line.carrying_value
                if currency.compare_amounts(writedown, 0.0) > 0:
                    pairs.append((accounts["location"], accounts["writedown"], writedown))
                if currency.compare_amounts(line.work_cost, 0.0) > 0:
                    pairs.append((accounts["accrued_cost"], accounts["work_cost"], line.work_cost))
                difference = move.value - line.book_value
                if currency.compare_amounts(difference, 0.0) > 0:
                    pairs.append((accounts["location"], accounts["cost_variance"], difference))
                elif currency.compare_amounts(difference, 0.0) < 0:
                    pairs.append((accounts["cost_variance"], accounts["location"], -difference))
                for debit, credit, amount in pairs:
                    line_vals += AccountMoveLine._rma_entry_line_vals(
                        line, debit, credit, amount, label, quantity=move.quantity
                    )
            entries |= self.env["account.move"]._rma_create_entry(
                company, line_vals, ", ".join(company_moves.rma_line_id.rma_id.mapped("name"))
            )
        return entries

    def _rma_post_remedy_delivery_entries(self):
        """Real-time valuation: a delivery without invoice posts nothing in Odoo 19, so the addon credits the stock
        valuation account at the value Odoo gave the remedy move: a replacement to warranty expense, a repaired unit
        shipped back to cost of goods sold (the original sale stands again; its receipt entry had reversed it).
        Called as superuser (_action_done): whoever validates the delivery need not read the units nor accounts."""
        moves = self.filtered(
            lambda move: move.product_id.valuation == "real_time" and not move.company_currency_id.is_zero(move.value)
        )
        AccountMoveLine = self.env["account.move.line"]
        for company, company_moves in moves.grouped("company_id").items():
            line_vals, analytic_cache = [], {}
            for move in company_moves:
                line = move.rma_remedy_line_id
                accounts = move.product_id.product_tmpl_id.with_company(company)._get_product_accounts()
                if line.remedy == "replacement":
                    debit, code = company._get_rma_warranty_account(), "REPLACEMENT"
                else:
                    debit, code = accounts["expense"], "SHIPPED BACK"
                line_vals += AccountMoveLine._rma_entry_line_vals(
                    line,
                    debit,
                    accounts["stock_valuation"],
                    abs(move.value),
                    AccountMoveLine._rma_label(line, code),
                    quantity=move.quantity,
                    analytic_cache=analytic_cache,
                )
            self.env["account.move"]._rma_create_entry(
                company, line_vals, ", ".join(company_moves.rma_remedy_line_id.rma_id.mapped("name"))
            )
