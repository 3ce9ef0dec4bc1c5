from odoo import api, fields, models


class RmaNrvRule(models.Model):
    """The net realizable value suggested for a refurbished or repaired unit: a share of its product's sales
    price, by cosmetic grade and product category. The most specific rule wins: the unit's category before its
    parents, a category before none, a company's rule before a shared one."""

    _name = "rma.nrv.rule"
    _inherit = ["rma.input.mixin"]
    _description = "Net Realizable Value Rule"
    _order = "grade_id, categ_id, id"
    _check_company_auto = True

    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", index=True, help="Leave empty to apply in every company.")
    grade_id = fields.Many2one("rma.grade", required=True, check_company=True, ondelete="cascade")
    categ_id = fields.Many2one(
        "product.category", string="Product Category", ondelete="cascade", help="Empty: any category."
    )
    share_percent = fields.Float(
        string="Share of Sales Price (%)",
        required=True,
        help="The unit's net realizable value once refurbished or repaired, as a share of its product's sales price.",
    )

    _share_range = models.Constraint(
        "CHECK(share_percent >= 0 AND share_percent <= 100)",
        "The share of the sales price is between 0 and 100%.",
    )

    @api.model
    def _suggest(self, units):
        """{unit: suggested net realizable value}, from one read of the rules (0.0 where no rule applies)."""
        rules = self.search(
            [("grade_id", "in", units.grade_id.ids), ("company_id", "in", [False, *units.company_id.ids])]
        )
        suggestions = {}
        for unit in units:
            rule = rules._best_match(unit)
            suggestions[unit] = unit.currency_id.round(unit.product_id.lst_price * rule.share_percent / 100)
        return suggestions

    def _best_match(self, unit):
        companies = (unit.company_id, self.env["res.company"])
        candidates = self.filtered(lambda rule: rule.grade_id == unit.grade_id and rule.company_id in companies)
        categories = []
        category = unit.product_id.categ_id
        while category:
            categories.append(category)
            category = category.parent_id
        ranked = sorted(
            candidates.filtered(lambda rule: not rule.categ_id or rule.categ_id in categories),
            key=lambda rule: (
                categories.index(rule.categ_id) if rule.categ_id else len(categories),
                0 if rule.company_id else 1,
            ),
        )
        return ranked[0] if ranked else self.browse()
