from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from .rma_workflow_guard import MANAGER_GROUP, ensure_workflow_fields, server_owned, server_write


class StockLot(models.Model):
    _inherit = "stock.lot"

    # Scans match a serial whatever its case (rma.line._find_by_code): that expression, indexed.
    _rma_name_key_idx = models.Index("(lower(name))")

    rma_custody_event_ids = fields.One2many("rma.custody.event", "lot_id", string="Chain of Custody")
    rma_custody_event_count = fields.Integer(compute="_compute_rma_custody_event_count", string="Custody Events")
    # Reactivation block: the serial of a unit destroyed, recycled or harvested must never come back into stock.
    is_rma_blocked = fields.Boolean(string="Reactivation Blocked", readonly=True, copy=False, index=True)
    rma_block_line_id = fields.Many2one(
        "rma.line", string="Blocked by RMA Unit", readonly=True, copy=False, index="btree_not_null"
    )
    rma_block_date = fields.Datetime(string="Blocked On", readonly=True, copy=False)
    # The RMA that blocked the serial, named to whoever the block stops (a name they may not be allowed to read).
    rma_block_reference = fields.Char(related="rma_block_line_id.rma_id.name", string="Blocked by RMA")
    rma_origin_country_id = fields.Many2one(
        "res.country", string="Country of Origin", help="Only where this unit's differs from its product's."
    )

    @api.model_create_multi
    def create(self, vals_list):
        # The reactivation block is the server's (rma_workflow_guard): refused to a client's create or write.
        ensure_workflow_fields(self, {name for vals in vals_list for name in vals})
        return super().create(vals_list)

    def write(self, vals):
        ensure_workflow_fields(self, vals)
        return super().write(vals)

    def _compute_rma_custody_event_count(self):
        counts = dict(self.env["rma.custody.event"]._read_group([("lot_id", "in", self.ids)], ["lot_id"], ["__count"]))
        for lot in self:
            lot.rma_custody_event_count = counts.get(lot, 0)

    def action_view_rma_custody_events(self):
        return self.rma_custody_event_ids._get_records_action(name=self.env._("Chain of Custody"))

    def action_open_rma_unblock_wizard(self):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Lift Reactivation Block"),
            "res_model": "rma.unblock.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_lot_ids": [fields.Command.set(self.ids)]},
        }

    @api.model
    def _create_rma_unit_lots(self, units):
        """Units (rma.line) whose serial was unknown (and overridden) get their lot when they physically arrive."""
        missing = units.filtered(lambda unit: unit.tracking == "serial" and not unit.lot_id)
        if not missing:
            return
        lots = self.create(
            [
                {"product_id": unit.product_id.id, "name": unit.serial_number.strip(), "company_id": unit.company_id.id}
                for unit in missing
            ]
        )
        # The unit's serial is a fact the receipt establishes (after its guard): written by the server, whoever scans.
        for unit, lot in zip(server_owned(missing), lots, strict=True):
            unit.lot_id = lot

    def _rma_block(self, lines):
        """Block the serials of ``lines`` (units disposed SD, REC or PH): nothing puts them back into stock."""
        lines = lines.filtered("lot_id")
        if not lines:
            return
        # One statement for the batch (each serial names its own unit): server-owned fields, after the step's guard.
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "UPDATE stock_lot SET is_rma_blocked = TRUE, rma_block_line_id = unit.line_id, rma_block_date = %s"
                " FROM unnest(%s::int[], %s::int[]) AS unit(lot_id, line_id) WHERE stock_lot.id = unit.lot_id",
                fields.Datetime.now(),
                [line.lot_id.id for line in lines],
                [line.id for line in lines],
            )
        )
        self.env["stock.lot"].invalidate_model(["is_rma_blocked", "rma_block_line_id", "rma_block_date"])

    def _action_rma_unblock(self, reason):
        """A manager lifts the block with a written reason, kept in the unit's chain of custody."""
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(self.env._("Only a Returns Manager lifts a reactivation block."))
        if not isinstance(reason, str) or not reason.strip():
            raise UserError(self.env._("Write why the serial may come back into stock."))
        lots = self.filtered("is_rma_blocked")
        if not lots:
            raise UserError(self.env._("These serial numbers are not blocked."))
        self.env["rma.custody.event"]._log(
            lots.rma_block_line_id,
            "status",
            note=self.env._(
                "Reactivation block lifted by %(user)s: %(reason)s", user=self.env.user.name, reason=reason
            ),
        )
        server_write(lots, {"is_rma_blocked": False, "rma_block_date": False})
        for lot in lots:
            lot.message_post(body=self.env._("Reactivation block lifted: %(reason)s", reason=reason))
        return True
