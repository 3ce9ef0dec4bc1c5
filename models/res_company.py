from odoo import api, fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    rma_return_window_days = fields.Integer(
        string="Return Window (days)",
        default=30,
        help="Days after delivery during which a unit may be returned, unless its product category says otherwise.",
    )
    rma_warranty_months = fields.Integer(
        string="Default Warranty (months)",
        default=12,
        help="Warranty period counted from delivery, used when neither the product nor its category sets one.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        companies = super().create(vals_list)
        companies._create_rma_sequences()
        return companies

    @api.model
    def _rma_setup_existing(self):
        """At install (before demo data): RMA sequences for the companies and return locations for the
        warehouses that already exist; those created later get theirs in their own create."""
        self.search([])._create_rma_sequences()  # pylint: disable=no-search-all
        warehouses = self.env["stock.warehouse"].with_context(active_test=False).search([])  # pylint: disable=no-search-all
        warehouses._create_rma_data()

    def _get_rma_journal(self):
        """The company's "RMA Dispositions" journal, created on first use (its chart may come after install)."""
        self.ensure_one()
        journal = (
            self.env["account.journal"].sudo().search([("code", "=", "RMAD"), ("company_id", "=", self.id)], limit=1)
        )
        if not journal:
            journal = (
                self.env["account.journal"]
                .sudo()
                .create(
                    {
                        "name": self.env._("RMA Dispositions"),
                        "code": "RMAD",
                        "type": "general",
                        "company_id": self.id,
                        "restrict_mode_hash_table": True,
                    }
                )
            )
        return journal

    def _create_rma_sequences(self):
        """Give each company its own RMA number sequence (numbers restart per company)."""
        existing = self.env["ir.sequence"].sudo().search([("code", "=", "rma.order"), ("company_id", "in", self.ids)])
        missing = self - existing.company_id
        self.env["ir.sequence"].sudo().create(
            [
                {
                    "name": self.env._("RMA Number (%(company)s)", company=company.name),
                    "code": "rma.order",
                    "prefix": "RMA/%(year)s/",
                    "padding": 5,
                    "company_id": company.id,
                }
                for company in missing
            ]
        )
