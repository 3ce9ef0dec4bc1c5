from odoo import api, fields, models

from .rma_workflow_guard import ensure_workflow_fields


class RepairOrder(models.Model):
    _inherit = "repair.order"

    rma_line_id = fields.Many2one(
        "rma.line", string="RMA Unit", readonly=True, copy=False, index="btree_not_null", ondelete="restrict"
    )
    rma_id = fields.Many2one(related="rma_line_id.rma_id", string="RMA", store=True, index="btree_not_null")
    rma_repair_level = fields.Selection(related="rma_line_id.repair_level", string="Repair Level")

    # ------------------------------------------------------------------
    # CRUD: the returned unit a repair order serves is the disposition's to set (rma_workflow_guard)
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        ensure_workflow_fields(self, {name for vals in vals_list for name in vals})
        return super().create(vals_list)

    def write(self, vals):
        ensure_workflow_fields(self, vals)
        return super().write(vals)

    # ------------------------------------------------------------------
    # Actions: a returned unit's repair done or abandoned ends its work
    # ------------------------------------------------------------------
    def action_repair_done(self):
        result = super().action_repair_done()
        # The end of a returned unit's work: its repaired move (linked and valued by stock.move.create) is done.
        repaired_moves = self.move_id.filtered(lambda move: move.rma_line_id and move.state == "done")
        if repaired_moves:
            units = self._rma_units()
            units._finish_work(repaired_moves.with_env(units.env))
        return result

    def action_repair_cancel(self):
        result = super().action_repair_cancel()
        # A returned unit's repair abandoned: the unit goes back to quarantine, to be disposed again.
        units = self._rma_units().filtered(lambda line: line.state == "in_progress" and line.repair_id in self)
        if units:
            units._cancel_work(self.env._("Repair cancelled"))
        return result

    def action_view_rma(self):
        return self.rma_id._get_records_action(name=self.env._("RMA"))

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------
    def _rma_units(self):
        """The returned units these repair orders serve, for the unit's side of the repair's steps."""
        # The repair technician need not have Returns rights: the unit's side runs as superuser after Odoo's own
        # step, and its custody events still name the user.
        return self.rma_line_id.sudo()
