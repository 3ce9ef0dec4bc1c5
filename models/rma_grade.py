from odoo import fields, models


class RmaGrade(models.Model):
    _name = "rma.grade"
    _description = "Cosmetic Grade"
    _order = "sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    code = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    description = fields.Text(translate=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", index=True, help="Leave empty to share the grade between companies.")

    _code_company_uniq = models.Constraint("UNIQUE(code, company_id)", "A grade code must be unique per company.")
