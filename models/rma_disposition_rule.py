from odoo import api, fields, models


class RmaDispositionRule(models.Model):
    """One row of the grade/failure -> disposition matrix. The first matching row (by sequence) suggests."""

    _name = "rma.disposition.rule"
    _inherit = ["rma.input.mixin"]
    _description = "Disposition Matrix Rule"
    _order = "sequence, id"
    _check_company_auto = True

    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", index=True, help="Leave empty to apply in every company.")
    grade_ids = fields.Many2many("rma.grade", string="Grades", check_company=True, help="Empty: any grade.")
    functional_result = fields.Selection(
        [("pass", "Pass"), ("fail", "Fail"), ("not_testable", "Not Testable")], help="Empty: any result."
    )
    failure_code_ids = fields.Many2many(
        "rma.failure.code",
        string="Failure Codes",
        check_company=True,
        help="The unit shows at least one of these codes. Empty: any.",
    )
    data_security = fields.Selection(
        [("none", "None"), ("wipe", "Wipe"), ("destroy", "Destroy")],
        help="Empty: any requirement.",
    )
    disposition_id = fields.Many2one(
        "rma.disposition", string="Suggested Disposition", required=True, check_company=True
    )

    @api.model
    def _suggest(self, inspections):
        """The suggested disposition of each inspection: {inspection: disposition}, from one read of the matrix."""
        rules = self.search([("company_id", "in", [False, *inspections.company_id.ids])])
        return {inspection: rules._first_match(inspection).disposition_id for inspection in inspections}

    def _first_match(self, inspection):
        for rule in self:
            if rule.company_id and rule.company_id != inspection.company_id:
                continue
            if rule.grade_ids and inspection.grade_id not in rule.grade_ids:
                continue
            if rule.functional_result and rule.functional_result != inspection.functional_result:
                continue
            if rule.failure_code_ids and not (rule.failure_code_ids & inspection.failure_code_ids):
                continue
            if rule.data_security and rule.data_security != inspection.data_security:
                continue
            return rule
        return self.browse()
