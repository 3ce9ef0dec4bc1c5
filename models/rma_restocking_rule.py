from odoo import api, fields, models
from odoo.exceptions import ValidationError


class RmaRestockingRule(models.Model):
    """Whether a restocking fee may be charged, by return reason and grade. The first matching rule decides."""

    _name = "rma.restocking.rule"
    _inherit = ["rma.input.mixin"]
    _description = "Restocking Fee Rule"
    _order = "sequence, id"
    _check_company_auto = True

    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", index=True, help="Leave empty to apply in every company.")
    reason_ids = fields.Many2many("rma.reason", string="Return Reasons", check_company=True, help="Empty: any.")
    grade_ids = fields.Many2many("rma.grade", string="Grades", check_company=True, help="Empty: any grade.")
    is_fee_eligible = fields.Boolean(string="Fee Eligible", default=True)
    fee_type = fields.Selection(
        [("percent", "Percentage of the Price"), ("fixed", "Fixed Amount")],
        default="percent",
        required=True,
        help="How the fee line of a credit note is priced: a share of the unit's credited price, or a fixed amount.",
    )
    fee_percent = fields.Float(string="Fee (%)", help="Share of the unit's price that may be charged.")
    currency_id = fields.Many2one(
        "res.currency", compute="_compute_currency_id", help="The company's currency (this one's, or the user's)."
    )
    fee_amount = fields.Monetary(
        string="Fixed Fee", currency_field="currency_id", help="Charged per unit, in the company's currency."
    )
    fee_product_id = fields.Many2one(
        "product.product",
        check_company=True,
        domain="[('type', '=', 'service')]",
        help="The product of the restocking-fee line on credit notes: its income account and taxes apply.",
    )

    @api.depends("company_id")
    def _compute_currency_id(self):
        for rule in self:
            rule.currency_id = (rule.company_id or self.env.company).currency_id

    @api.constrains("fee_type", "fee_percent", "fee_amount", "is_fee_eligible")
    def _check_fee(self):
        for rule in self:
            if rule.fee_percent < 0 or rule.fee_percent > 100:
                raise ValidationError(self.env._("A restocking fee is between 0 and 100 % of the unit's price."))
            if rule.fee_amount < 0:
                raise ValidationError(self.env._("A fixed restocking fee cannot be negative."))

    def _fee_for(self, net_price, currency, company, date):
        """The fee this rule charges on a unit credited at ``net_price`` (in ``currency``)."""
        self.ensure_one()
        if not self.is_fee_eligible:
            return 0.0
        if self.fee_type == "fixed":
            return company.currency_id._convert(self.fee_amount, currency, company, date)
        return currency.round(net_price * self.fee_percent / 100.0)

    @api.model
    def _evaluate(self, inspections):
        """{inspection: matching rule (or an empty record: not eligible)}, from one read of the rules."""
        rules = self.search([("company_id", "in", [False, *inspections.company_id.ids])])
        return {inspection: rules._first_match(inspection) for inspection in inspections}

    def _first_match(self, inspection):
        for rule in self:
            if rule.company_id and rule.company_id != inspection.company_id:
                continue
            if rule.reason_ids and inspection.rma_id.reason_id not in rule.reason_ids:
                continue
            if rule.grade_ids and inspection.grade_id not in rule.grade_ids:
                continue
            return rule
        return self.browse()
