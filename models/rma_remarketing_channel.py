from odoo import fields, models


class RmaRemarketingChannel(models.Model):
    """Where graded units are sold again (B2B refurbished, outlet, recycler), and what selling there costs."""

    _name = "rma.remarketing.channel"
    _description = "Remarketing Channel"
    _order = "sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    currency_id = fields.Many2one(related="company_id.currency_id")
    selling_cost_percent = fields.Float(
        string="Selling Cost (%)", digits=(5, 2), help="Fees of the channel, as a percentage of the sale price."
    )
    selling_cost_fixed = fields.Monetary(
        currency_field="currency_id", string="Selling Cost per Unit", help="Fees of the channel per unit sold."
    )

    _selling_cost_positive = models.Constraint(
        "CHECK(selling_cost_percent >= 0 AND selling_cost_percent <= 100 AND selling_cost_fixed >= 0)",
        "A channel's selling costs are positive, and its percentage at most 100.",
    )

    def _selling_cost(self, price):
        """What selling one unit at ``price`` through the channel costs."""
        self.ensure_one()
        return self.currency_id.round(price * self.selling_cost_percent / 100.0 + self.selling_cost_fixed)
