from odoo import fields, models

from .rma_workflow_guard import server_write


class RmaLine(models.Model):
    """Remarketing by grade: a unit finished into graded stock gets its serial's condition and grade
    (stock.lot.rma_condition) and its channel (rma.channel.allocation); the move that took it out of graded stock
    (a sale's delivery) is recorded, for its realized value (rma.remarketing.report)."""

    _inherit = "rma.line"

    remarketing_channel_id = fields.Many2one(
        "rma.remarketing.channel",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The channel the graded unit is offered to, allocated by its grade's shares when it reached graded stock.",
    )
    remarketing_move_id = fields.Many2one(
        "stock.move",
        string="Left Graded Stock With",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The move that took the graded unit out of graded stock: a sale's delivery, for its realized value.",
    )

    def _finish_work(self, moves):
        result = super()._finish_work(moves)
        lines = moves.rma_line_id
        lines._rma_set_lot_condition("refurbished")
        lines._rma_allocate_channels()
        return result

    def _leave_graded_stock(self, moves, logged=False):
        ready = self.filtered(lambda line: line.state == "ready")
        result = super()._leave_graded_stock(moves, logged=logged)
        move_by_lot = {lot: move for move in moves for lot in move.move_line_ids.lot_id}
        left = ready.filtered(lambda line: line.state == "closed" and line.lot_id in move_by_lot)
        for move, lines in left.grouped(lambda line: move_by_lot[line.lot_id]).items():
            server_write(lines, {"remarketing_move_id": move.id})
        return result

    def _rma_set_lot_condition(self, condition):
        """The units' serials are sold again as ``condition`` (new: restocked; refurbished: in graded stock), with the
        grade of their inspection."""
        lines = self.filtered("lot_id")
        self.env["stock.lot"].browse(lines.lot_id.ids)._rma_set_condition(
            condition, {line.lot_id: line.inspection_id.grade_id for line in lines}
        )

    def _rma_allocate_channels(self):
        """Each unit's channel, by its grade's shares in its company (rma.channel.allocation._allocate): one search
        of the allocations and one count of the units already allocated, per call."""
        lines = self.filtered(lambda line: line.inspection_id.grade_id and not line.remarketing_channel_id)
        if not lines:
            return
        grades = lines.inspection_id.grade_id
        allocations = self.env["rma.channel.allocation"].search(
            [("company_id", "in", lines.company_id.ids), ("grade_id", "in", grades.ids)]
        )
        allocation_of = {(allocation.company_id, allocation.grade_id): allocation for allocation in allocations}
        # Units already allocated, per company, grade and channel (the grade is the inspection's, stored on the unit's
        # inspection: read through the unit's serial, which carries it since the unit reached graded stock).
        counted = self.env["rma.line"]._read_group(
            [
                ("company_id", "in", lines.company_id.ids),
                ("remarketing_channel_id", "!=", False),
                ("lot_id.rma_grade_id", "in", grades.ids),
                ("id", "not in", lines.ids),
            ],
            ["company_id", "lot_id.rma_grade_id", "remarketing_channel_id"],
            ["__count"],
        )
        counts = {}
        for company, grade, channel, count in counted:
            counts.setdefault((company, grade), {})[channel] = count
        channel_of = {}
        for (company, grade), group in lines.grouped(
            lambda line: (line.company_id, line.inspection_id.grade_id)
        ).items():
            allocation = allocation_of.get((company, grade))
            if allocation:
                channel_of.update(allocation._allocate(group, counts.get((company, grade), {})))
        for channel, channel_lines in (
            self.browse([line.id for line in channel_of]).grouped(lambda line: channel_of[line]).items()
        ):
            server_write(channel_lines, {"remarketing_channel_id": channel.id})
