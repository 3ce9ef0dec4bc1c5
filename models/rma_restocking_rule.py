from odoo import api, fields, models


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
    fee_percent = fields.Float(string="Fee (%)", help="Share of the unit's price that may be charged.")

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
