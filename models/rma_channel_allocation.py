from odoo import api, fields, models
from odoo.exceptions import ValidationError


class RmaChannelAllocation(models.Model):
    """Per company and grade, the share of the graded units offered to each remarketing channel (100% in all)."""

    _name = "rma.channel.allocation"
    _inherit = ["mail.thread"]
    _description = "Channel Allocation of a Grade"
    _order = "company_id, grade_id"
    _check_company_auto = True
    _rec_name = "grade_id"

    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    grade_id = fields.Many2one("rma.grade", string="Cosmetic Grade", required=True, check_company=True, tracking=True)
    line_ids = fields.One2many("rma.channel.allocation.line", "allocation_id", string="Shares", copy=True)
    # Checked once the shares are saved together (at the flush), not after each share of the form's save.
    share_total = fields.Float(string="Total (%)", compute="_compute_share_total", store=True, digits=(5, 2))

    _grade_company_uniq = models.UniqueIndex(
        "(company_id, grade_id)", "A grade has one channel allocation per company."
    )

    @api.depends("line_ids.share")
    def _compute_share_total(self):
        for allocation in self:
            allocation.share_total = sum(allocation.line_ids.mapped("share"))

    @api.constrains("share_total")
    def _check_share_total(self):
        for allocation in self:
            if round(allocation.share_total, 2) != 100.0:
                raise ValidationError(
                    self.env._(
                        "The channels' shares of grade %(grade)s add up to %(total)s%%, not 100%%.",
                        grade=allocation.grade_id.display_name,
                        total=round(allocation.share_total, 2),
                    )
                )

    def _allocate(self, units, allocated_counts):
        """{unit: channel} for the ``units`` of this grade, by largest remainder over the grade's units: each unit
        goes to the channel furthest below its share of all the grade's allocated units (``allocated_counts``:
        {channel: units already allocated}), in unit order; ties to the first channel."""
        self.ensure_one()
        counts = {line.channel_id: allocated_counts.get(line.channel_id, 0) for line in self.line_ids}
        total = sum(counts.values())
        result = {}
        lines = self.line_ids.filtered(lambda line: line.share > 0).sorted(lambda line: (line.sequence, line.id))
        if not lines:
            return result
        for unit in units.sorted("id"):
            total += 1
            line = max(
                lines,
                key=lambda line: (line.share * total / 100.0 - counts[line.channel_id], -lines.ids.index(line.id)),
            )
            counts[line.channel_id] += 1
            result[unit] = line.channel_id
        return result


class RmaChannelAllocationLine(models.Model):
    _name = "rma.channel.allocation.line"
    _description = "Channel Share of a Grade"
    _order = "allocation_id, sequence, id"
    _check_company_auto = True

    allocation_id = fields.Many2one("rma.channel.allocation", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="allocation_id.company_id", store=True, index=True, precompute=True)
    sequence = fields.Integer(default=10)
    channel_id = fields.Many2one("rma.remarketing.channel", required=True, check_company=True, ondelete="restrict")
    share = fields.Float(string="Share (%)", digits=(5, 2), required=True)

    _channel_uniq = models.UniqueIndex("(allocation_id, channel_id)", "A channel has one share of a grade.")
    _share_range = models.Constraint("CHECK(share >= 0 AND share <= 100)", "A share is between 0% and 100%.")
