from odoo import fields, models


class StockLot(models.Model):
    _inherit = "stock.lot"

    rma_custody_event_ids = fields.One2many("rma.custody.event", "lot_id", string="Chain of Custody")
    rma_custody_event_count = fields.Integer(compute="_compute_rma_custody_event_count", string="Custody Events")

    def _compute_rma_custody_event_count(self):
        counts = dict(self.env["rma.custody.event"]._read_group([("lot_id", "in", self.ids)], ["lot_id"], ["__count"]))
        for lot in self:
            lot.rma_custody_event_count = counts.get(lot, 0)

    def action_view_rma_custody_events(self):
        return self.rma_custody_event_ids._get_records_action(name=self.env._("Chain of Custody"))
