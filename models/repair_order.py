from odoo import fields, models


class RepairOrder(models.Model):
    _name = "repair.order"
    _inherit = ["repair.order", "rma.server.fields.mixin"]

    rma_line_id = fields.Many2one(
        "rma.line", string="RMA Unit", readonly=True, copy=False, index="btree_not_null", ondelete="restrict"
    )
    rma_id = fields.Many2one(related="rma_line_id.rma_id", string="RMA", store=True, index="btree_not_null")
    rma_repair_level = fields.Selection(related="rma_line_id.repair_level", string="Repair Level")

    def action_repair_done(self):
        result = super().action_repair_done()
        # The end of a returned unit's work: its repaired move (linked and valued by stock.move.create) is done.
        # The technician need not have rights on returns: the unit's side is done as superuser, the custody
        # events still name the user.
        repaired_moves = self.move_id.filtered(lambda move: move.rma_line_id and move.state == "done")
        if repaired_moves:
            repaired_moves.sudo().rma_line_id._finish_work(repaired_moves.sudo())
        return result

    def action_repair_cancel(self):
        result = super().action_repair_cancel()
        # A returned unit's repair abandoned: the unit goes back to quarantine, to be disposed again.
        units = self.rma_line_id.filtered(lambda line: line.state == "in_progress" and line.repair_id in self)
        if units:
            units.sudo()._cancel_work(self.env._("Repair cancelled"))
        return result

    def action_view_rma(self):
        return self.rma_id._get_records_action(name=self.env._("RMA"))
