from odoo import api, fields, models


class AccountMoveLine(models.Model):
    _name = "account.move.line"
    _inherit = ["account.move.line", "rma.server.fields.mixin"]

    rma_line_id = fields.Many2one(
        "rma.line", string="RMA Unit", readonly=True, copy=False, index="btree_not_null", ondelete="restrict"
    )
    rma_id = fields.Many2one(related="rma_line_id.rma_id", string="RMA", store=True, index="btree_not_null")
    rma_disposition_id = fields.Many2one(
        "rma.disposition", string="Disposition", readonly=True, copy=False, index="btree_not_null"
    )

    @api.model
    def _rma_analytic_distribution(self, product, partner, account, company, cache):
        """The distribution Odoo's analytic distribution models give such a line, computed once per key of a
        batch (``cache``) with Odoo's own arguments: its compute runs line by line, a few queries each. An RMA
        line has no related document distribution, so the models are all there is to apply."""
        key = (product.id, partner.id, account.id, company.id)
        if key not in cache:
            line = self.new(
                {
                    "move_id": self.env["account.move"].new({"company_id": company.id}),
                    "product_id": product.id,
                    "partner_id": partner.id,
                    "account_id": account.id,
                }
            )
            arguments = line._get_analytic_distribution_arguments(self.env["account.analytic.plan"])
            cache[key] = self.env["account.analytic.distribution.model"].sudo()._get_distribution(arguments)
        return cache[key] or False
