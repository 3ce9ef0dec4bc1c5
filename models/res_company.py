from odoo import Command, api, fields, models
from odoo.exceptions import UserError, ValidationError


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
    rma_shipping_days = fields.Integer(
        string="Days to Ship Back",
        default=14,
        help="Days the customer has to ship authorized units back: their receipt is scheduled then, and shows late"
        " on the Inventory Overview after that.",
    )
    rma_sanitization_rules = fields.Boolean(
        string="Enforce Data Sanitization",
        default=True,
        help="A unit that requires a wipe is restocked, refurbished or repaired only after a validated Clear or Purge"
        " certificate; a unit to destroy is disposed only SD (or PH with its media destroyed) and closes with a"
        " validated Destroy certificate for each of its media.",
    )
    rma_disposition_segregation = fields.Boolean(
        string="Segregation of Duties on Dispositions",
        help="The manager who confirms a disposition batch must not be the one who prepared it.",
    )
    rma_disposition_job_threshold = fields.Integer(
        string="Dispositions Confirmed in the Background Above",
        default=500,
        help="A disposition batch of more units than this is confirmed by a background job, a chunk of units at a"
        " time, with its progress on the batch; up to this many, at once in the manager's request.",
    )
    rma_advance_return_days = fields.Integer(
        string="Days to Return After an Advance Remedy",
        default=30,
        help="A unit replaced or credited before it arrived must arrive within this many days; after that its RMA"
        " gets an activity for its responsible.",
    )
    rma_warranty_account_id = fields.Many2one(
        "account.account",
        string="Warranty Expense Account",
        check_company=True,
        help="Replacement units shipped free of charge are expensed here at their book value (real-time valuation).",
    )

    # The customer's mail at each step of their return (models/rma_order_notify.py), each switchable.
    rma_notify_authorized = fields.Boolean(string="Mail: Return Authorized", default=True)
    rma_notify_received = fields.Boolean(string="Mail: Units Received", default=True)
    rma_notify_inspected = fields.Boolean(string="Mail: Inspection Done", default=True)
    rma_notify_remedy_done = fields.Boolean(string="Mail: Remedy Done", default=True)
    rma_notify_closed = fields.Boolean(string="Mail: Return Closed", default=True)
    rma_notify_rejected = fields.Boolean(string="Mail: Return Rejected", default=True)

    rma_location_view_id = fields.Many2one(
        "stock.location",
        string="Returns Locations",
        readonly=True,
        help="Top-level view holding the company's refurbishment, repair, harvest, recycling and destruction"
        " locations.",
    )

    @api.constrains("rma_disposition_job_threshold")
    def _check_rma_disposition_job_threshold(self):
        if any(company.rma_disposition_job_threshold < 0 for company in self):
            raise ValidationError(
                self.env._(
                    "The number of units above which a disposition batch is confirmed in the background cannot"
                    " be negative (0: every batch in the background)."
                )
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
        self.search([("chart_template", "!=", False)])._rma_setup_accounts()

    def _rma_setup_accounts(self):
        """The RMA Dispositions journal and the default accounts of the disposition codes in each company, once its
        chart is loaded: accrued refurbishment/repair costs and recovery clearing (created: few charts have them)
        and other income. Configuration, run as superuser (at install, by the upgrade, with the chart's loading)."""
        self._create_rma_journal()
        default_model = self.env["ir.default"]
        for company in self:
            accounts = self.env["account.account"].with_company(company)
            domain = accounts._check_company_domain(company)

            def first_account(account_type, order="code", domain=domain, accounts=accounts):
                return accounts.search([*domain, ("account_type", "=", account_type)], order=order, limit=1)

            # The accounts made here are coded after the chart's last account of their type: Odoo (and its tests)
            # take the first account of a type by code as that type's default, which must stay the chart's own.
            wanted = {
                "accrued_cost_account_id": (
                    self.env._("Accrued Refurbishment and Repair Costs"),
                    "liability_current",
                ),
                "recovery_account_id": (self.env._("Returns Recovery Clearing"), "asset_current"),
                "nrv_allowance_account_id": (self.env._("Returns NRV Allowance"), "asset_current"),
                "cost_variance_account_id": (self.env._("Standard Cost Variance"), "expense"),
            }
            for field_name, (name, account_type) in wanted.items():
                if default_model._get("rma.disposition", field_name, company_id=company.id):
                    continue
                account = accounts.create(
                    {
                        "name": name,
                        "code": accounts._search_new_account_code(
                            first_account(account_type, "code desc").code or "9990"
                        ),
                        "account_type": account_type,
                        # A recycler's bill or payment is matched against the recovery receivable it clears.
                        "reconcile": field_name == "recovery_account_id",
                        "company_ids": [Command.link(company.id)],
                    }
                )
                default_model.set("rma.disposition", field_name, account.id, company_id=company.id)
            if not company.rma_warranty_account_id:
                company.rma_warranty_account_id = accounts.create(
                    {
                        "name": self.env._("Warranty Expense"),
                        "code": accounts._search_new_account_code(first_account("expense", "code desc").code or "9990"),
                        "account_type": "expense",
                        "company_ids": [Command.link(company.id)],
                    }
                )
            income = first_account("income_other")
            if income and not default_model._get("rma.disposition", "income_account_id", company_id=company.id):
                default_model.set("rma.disposition", "income_account_id", income.id, company_id=company.id)

    def _rma_timezone(self):
        """The time zone the addon's documents state their times in: the company's, else the user's, else UTC."""
        self.ensure_one()
        return self.partner_id.tz or self.env.user.tz or "UTC"

    def _rma_address_line(self):
        """The company's address on one line, in its country's address format, as certificates print it."""
        self.ensure_one()
        lines = self.partner_id._display_address(without_company=True).split("\n")
        return ", ".join(line.strip() for line in lines if line.strip())

    def _get_rma_warranty_account(self):
        """The account replacements are expensed to; a clear error when the company has none."""
        self.ensure_one()
        if not self.rma_warranty_account_id:
            raise UserError(
                self.env._(
                    "Set the Warranty Expense account of %(company)s (Inventory > Configuration > Settings, Returns)"
                    " to ship replacements.",
                    company=self.name,
                )
            )
        return self.rma_warranty_account_id

    def _get_rma_journal(self):
        """The company's "RMA Dispositions" journal, created with its chart of accounts (or at install)."""
        self.ensure_one()
        journal = self._rma_journals().get(self)
        if not journal:
            raise UserError(
                self.env._(
                    "%(company)s has no RMA Dispositions journal: install its chart of accounts"
                    " (Accounting > Configuration > Settings) to post the entries of returned units.",
                    company=self.name,
                )
            )
        return journal

    def _rma_journals(self):
        """{company: its RMA Dispositions journal}, for the addon's steps that post or seal in it."""
        # sudo: Returns Managers post the RMA entries through the addon but need not read the accounting journals
        journals = self.env["account.journal"].sudo().search([("code", "=", "RMAD"), ("company_id", "in", self.ids)])
        return {journal.company_id: journal for journal in journals}

    def _create_rma_journal(self):
        """Create the "RMA Dispositions" journal of companies that have none. It is made with the chart (and at
        install), never on first use: two first uses at once would both create it. It is not hashed at posting: the
        company seal hashes its posted entries (see rma_custody_seal), so concurrent postings do not conflict.
        Configuration, run as superuser (see _rma_setup_accounts)."""
        existing = self.env["account.journal"].search([("code", "=", "RMAD"), ("company_id", "in", self.ids)])
        self.env["account.journal"].create(
            [
                {
                    "name": self.env._("RMA Dispositions"),
                    "code": "RMAD",
                    "type": "general",
                    "company_id": company.id,
                }
                for company in self - existing.company_id
            ]
        )

    def _get_rma_location_view(self):
        """{company: its "Returns" view location}, created when missing (see stock_warehouse.OUTSIDE_LOCATIONS)."""
        for company in self.filtered(lambda company: not company.rma_location_view_id):
            # sudo: the stock manager who creates the company's first warehouse may not write the company.
            company.sudo().rma_location_view_id = self.env["stock.location"].create(
                {"name": self.env._("Returns"), "usage": "view", "company_id": company.id}
            )
        return {company: company.rma_location_view_id for company in self}

    def _create_rma_sequences(self):
        """Give each company its own RMA number and disposition batch sequences (numbers restart per company)."""
        sequences = {
            "rma.order": (
                lambda company: self.env._("RMA Number (%(company)s)", company=company.name),
                "RMA/%(year)s/",
            ),
            "rma.disposition.batch": (
                lambda company: self.env._("RMA Disposition Batch (%(company)s)", company=company.name),
                "DISP/%(year)s/",
            ),
            "rma.sanitization": (
                lambda company: self.env._("Certificate of Sanitization (%(company)s)", company=company.name),
                "SAN/%(year)s/",
            ),
        }
        # sudo: configuration, made for a new company (by an ERP manager, not a system user) and at install
        sequence_model = self.env["ir.sequence"].sudo()
        existing = sequence_model.search([("code", "in", list(sequences)), ("company_id", "in", self.ids)])
        have = {(sequence.code, sequence.company_id) for sequence in existing}
        sequence_model.create(
            [
                {
                    "name": name(company),
                    "code": code,
                    "prefix": prefix,
                    "padding": 5,
                    "company_id": company.id,
                }
                for company in self
                for code, (name, prefix) in sequences.items()
                if (code, company) not in have
            ]
        )
