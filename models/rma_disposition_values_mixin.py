from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .rma_disposition import REPAIR_LEVELS, WORK_TREATMENTS

# Largest amount a disposition accepts per unit: beyond it a figure is a typing error, not a valuation.
MAX_UNIT_AMOUNT = 1e9


class RmaDispositionValuesMixin(models.AbstractModel):
    """A unit's disposition as its preparer enters it: code, level and amounts, with the suggestions (the code
    from the inspection, the net realizable value from rma.nrv.rule, the REP cost from the level). The lines of
    the disposition wizard and of the disposition batch."""

    _name = "rma.disposition.values.mixin"
    _inherit = ["rma.input.mixin"]
    _description = "Disposition Values"

    # Defined by each model (the unit's company, the batch's).
    company_id = fields.Many2one("res.company")
    currency_id = fields.Many2one("res.currency")

    unit_id = fields.Many2one("rma.line", required=True, check_company=True)
    rma_id = fields.Many2one(related="unit_id.rma_id")
    product_id = fields.Many2one(related="unit_id.product_id")
    serial_number = fields.Char(related="unit_id.serial_number")
    grade_id = fields.Many2one(related="unit_id.grade_id")
    suggested_disposition_id = fields.Many2one(related="unit_id.suggested_disposition_id", string="Suggested")
    disposition_id = fields.Many2one(
        "rma.disposition", string="Code", required=True, domain="[('company_id', 'in', [False, company_id])]"
    )
    treatment = fields.Selection(related="disposition_id.treatment")
    repair_level = fields.Selection(REPAIR_LEVELS, string="Level")
    net_realizable_value = fields.Monetary(
        currency_field="currency_id",
        compute="_compute_net_realizable_value",
        store=True,
        readonly=False,
        help="Estimated selling price once refurbished or repaired, less the costs to sell it. Suggested from the"
        " unit's grade and product category (Inventory > Configuration > Returns > Net Realizable Value).",
    )
    work_cost = fields.Monetary(
        currency_field="currency_id",
        string="Estimated Work Cost",
        compute="_compute_work_cost",
        store=True,
        readonly=False,
        help="Accrued when the disposition is confirmed. Repairs default to the code's estimate for the level.",
    )
    recovery_value = fields.Monetary(
        currency_field="currency_id", string="Residual Recovery Value", help="Harvested parts, recycler rebate."
    )
    note = fields.Char()

    @api.depends("disposition_id", "unit_id")
    def _compute_net_realizable_value(self):
        work_lines = self.filtered(lambda line: line.treatment in WORK_TREATMENTS)
        suggestions = self.env["rma.nrv.rule"]._suggest(work_lines.unit_id)
        for line in self:
            line.net_realizable_value = suggestions.get(line.unit_id, 0.0) if line in work_lines else 0.0

    @api.constrains("net_realizable_value", "work_cost", "recovery_value")
    def _check_amounts(self):
        for line in self:
            amounts = {
                self.env._("net realizable value"): line.net_realizable_value,
                self.env._("work cost"): line.work_cost,
                self.env._("recovery value"): line.recovery_value,
            }
            wrong = [name for name, amount in amounts.items() if not 0 <= amount <= MAX_UNIT_AMOUNT]
            if wrong:
                raise ValidationError(
                    self.env._(
                        "%(unit)s: the %(amounts)s must be an amount between 0 and %(max)s.",
                        unit=line.unit_id.display_name,
                        amounts=", ".join(wrong),
                        max=f"{MAX_UNIT_AMOUNT:,.0f}",
                    )
                )

    @api.depends("disposition_id", "repair_level")
    def _compute_work_cost(self):
        for line in self:
            if line.treatment == "repair":
                line.work_cost = line.disposition_id._get_repair_cost(line.repair_level)
            elif line.treatment == "refurbish":
                line.work_cost = line.work_cost or 0.0  # estimated by the preparer
            else:
                line.work_cost = 0.0
