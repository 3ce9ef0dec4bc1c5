from odoo import models


class ProductPricelist(models.Model):
    _inherit = "product.pricelist"

    def _get_applicable_rules_domain(self, products, date, **kwargs):
        # A rule for a grade prices only refurbished units of it (a sale line's condition); lines of new units use
        # the rules without a grade.
        grade = kwargs.get("rma_grade") or self.env["rma.grade"]
        return [
            *super()._get_applicable_rules_domain(products, date, **kwargs),
            ("rma_grade_id", "in", [False, grade.id]),
        ]

    def _get_applicable_rules(self, products, date, **kwargs):
        # The grade's rules first: they apply before the pricelist's general ones (stable sort keeps Odoo's order).
        return super()._get_applicable_rules(products, date, **kwargs).sorted(lambda rule: not rule.rma_grade_id)
