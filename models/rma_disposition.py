from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

# What a code does with the unit, in stock and in the books (see the accounting contract).
TREATMENTS = [
    ("restock", "Return to Stock"),
    ("refurbish", "Refurbish"),
    ("repair", "Repair"),
    ("salvage", "Harvest / Recycle"),
    ("destroy", "Destroy"),
    ("vendor", "Return to Vendor"),
]
# Treatments whose unit waits in a WIP location until its work is finished.
WORK_TREATMENTS = ("refurbish", "repair")

# Where a code sends the unit: a location of the RMA's warehouse.
DESTINATIONS = [
    ("lot_stock_id", "Stock"),
    ("rma_refurbish_location_id", "Refurbishment WIP"),
    ("rma_repair_location_id", "Repair WIP"),
    ("rma_harvest_location_id", "Parts Harvest"),
    ("rma_recycle_location_id", "Recycling"),
    ("rma_destruction_location_id", "Secure Destruction"),
    ("rma_quarantine_location_id", "Returns Quarantine"),
]
REPAIR_LEVELS = [("l1", "L1"), ("l2", "L2"), ("l3", "L3"), ("l4", "L4")]


class RmaDisposition(models.Model):
    """A disposition code (RTS, REF, REP, PH, REC, SD): what happens to an inspected unit, where it goes and
    which accounts its entries use."""

    _name = "rma.disposition"
    _inherit = ["rma.code.mixin"]
    _description = "Disposition Code"

    treatment = fields.Selection(TREATMENTS, required=True, default="restock")
    destination = fields.Selection(
        DESTINATIONS,
        required=True,
        default="lot_stock_id",
        help="The location of the RMA's warehouse the unit is moved to when the disposition is confirmed.",
    )
    requires_certificate = fields.Boolean(
        string="Destruction Certificate", help="Units disposed with this code need a data destruction certificate."
    )
    currency_id = fields.Many2one("res.currency", compute="_compute_currency_id")
    repair_cost_l1 = fields.Monetary(
        currency_field="currency_id", string="L1 Cost Estimate", help="Default repair cost of a level 1 repair."
    )
    repair_cost_l2 = fields.Monetary(currency_field="currency_id", string="L2 Cost Estimate")
    repair_cost_l3 = fields.Monetary(currency_field="currency_id", string="L3 Cost Estimate")
    repair_cost_l4 = fields.Monetary(currency_field="currency_id", string="L4 Cost Estimate")

    # Accounts, per company. Empty ones fall back on the defaults of _get_accounts.
    location_account_id = fields.Many2one(
        "account.account",
        string="Destination Account",
        company_dependent=True,
        ondelete="restrict",
        help="The account of the destination location: work in progress (refurbish, repair), disposal expense"
        " (harvest, recycle) or destruction expense (destroy). Odoo posts the unit's book value to it.",
    )
    writedown_account_id = fields.Many2one(
        "account.account",
        string="Returns Write-Down Account",
        company_dependent=True,
        ondelete="restrict",
        help="Book value above the net realizable value. Default: the product's cost of goods sold account.",
    )
    work_cost_account_id = fields.Many2one(
        "account.account",
        string="Refurbishment / Repair Cost Account",
        company_dependent=True,
        ondelete="restrict",
        help="Expense of the estimated work. Default: the company's expense account.",
    )
    accrued_cost_account_id = fields.Many2one(
        "account.account",
        string="Accrued Refurbishment / Repair Costs",
        company_dependent=True,
        ondelete="restrict",
        help="Liability for the estimated work until it is billed.",
    )
    nrv_allowance_account_id = fields.Many2one(
        "account.account",
        string="NRV Allowance Account",
        company_dependent=True,
        ondelete="restrict",
        help="Contra-inventory (not a stock valuation account): a standard-cost unit back in stock at its standard"
        " price above its net realizable value is carried at the latter through this allowance.",
    )
    cost_variance_account_id = fields.Many2one(
        "account.account",
        string="Standard Cost Variance Account",
        company_dependent=True,
        ondelete="restrict",
        help="A standard-cost unit back in stock at a standard price below its carrying value: the difference.",
    )
    income_account_id = fields.Many2one(
        "account.account",
        string="Recovery Income Account",
        company_dependent=True,
        ondelete="restrict",
        help="Other income for the residual value recovered (parts, recycler rebate).",
    )
    recovery_account_id = fields.Many2one(
        "account.account",
        string="Recovery Receivable / Clearing",
        company_dependent=True,
        ondelete="restrict",
        help="Asset for the residual value until it is collected.",
    )

    @api.depends_context("company")
    def _compute_currency_id(self):
        self.currency_id = self.env.company.currency_id

    @api.constrains("treatment", "destination")
    def _check_destination(self):
        for code in self:
            if code.treatment == "restock" and code.destination != "lot_stock_id":
                raise ValidationError(self.env._("A return-to-stock code sends units to Stock."))
            if code.treatment in WORK_TREATMENTS and code.destination not in (
                "rma_refurbish_location_id",
                "rma_repair_location_id",
            ):
                raise ValidationError(
                    self.env._("Units to refurbish or repair wait in a WIP location until the work is finished.")
                )
            if code.treatment == "vendor" and code.destination not in ("rma_quarantine_location_id", "lot_stock_id"):
                raise ValidationError(
                    self.env._("Units returned to their vendor wait in quarantine (or stock) until they are shipped.")
                )
            if code.treatment != "vendor" and code.destination == "rma_quarantine_location_id":
                raise ValidationError(self.env._("Only units returned to their vendor stay in quarantine."))
            if code.treatment in ("salvage", "destroy") and code.destination in (
                "lot_stock_id",
                "rma_refurbish_location_id",
                "rma_repair_location_id",
            ):
                raise ValidationError(
                    self.env._("Harvested, recycled and destroyed units leave stock: choose a disposal location.")
                )

    @api.constrains("repair_cost_l1", "repair_cost_l2", "repair_cost_l3", "repair_cost_l4")
    def _check_repair_costs(self):
        for code in self:
            if min(code.repair_cost_l1, code.repair_cost_l2, code.repair_cost_l3, code.repair_cost_l4) < 0:
                raise ValidationError(self.env._("Repair cost estimates cannot be negative."))

    def _get_destination(self, warehouse):
        self.ensure_one()
        location = warehouse[self.destination]
        if not location:
            raise UserError(
                self.env._(
                    "Warehouse %(warehouse)s has no %(location)s location for disposition %(code)s.",
                    warehouse=warehouse.display_name,
                    location=dict(DESTINATIONS)[self.destination],
                    code=self.display_name,
                )
            )
        return location

    def _get_repair_cost(self, level):
        self.ensure_one()
        return self[f"repair_cost_{level}"] if level else 0.0

    def _get_accounts(self, product, company):
        """The accounts of this code's entries for ``product`` in ``company``: the code's own, else the defaults
        (chart and product category). Missing ones are None; ``_check_accounts`` names them."""
        self.ensure_one()
        code = self.with_company(company)
        product_accounts = product.product_tmpl_id.with_company(company)._get_product_accounts()
        location_default = (
            company.account_production_wip_account_id
            if self.treatment in WORK_TREATMENTS
            else company.expense_account_id
        )
        return {
            "location": code.location_account_id or location_default,
            "writedown": code.writedown_account_id or product_accounts["expense"],
            "work_cost": code.work_cost_account_id or company.expense_account_id,
            "accrued_cost": code.accrued_cost_account_id,
            "nrv_allowance": code.nrv_allowance_account_id,
            "cost_variance": code.cost_variance_account_id,
            "income": code.income_account_id,
            "recovery": code.recovery_account_id,
        }

    def _get_recovered_value(self, book_value=0.0, net_realizable_value=0.0, work_cost=0.0, recovery_value=0.0):
        """What disposing a unit with this code recovers: the one rule behind the unit's recovered value (which the
        recovery KPI reads, rma.kpi.unit) and the disposition batch's Recovery Value, so that they cannot differ.

        RTS recovers the unit's book value C in full (it is back in sellable stock at C: Dr Stock C / Cr COGS C at
        its receipt, nothing written off since); REF/REP the net realizable value less the work cost (N - R);
        PH/REC the residual recovery value V; SD nothing. No code (not disposed yet): nothing."""
        if not self:
            return 0.0
        self.ensure_one()
        if self.treatment == "restock":
            return book_value
        if self.treatment in WORK_TREATMENTS:
            return net_realizable_value - work_cost
        if self.treatment == "salvage":
            return recovery_value
        return 0.0

    def _required_accounts(self, work_cost=0.0, recovery_value=0.0, standard_cost=False):
        """The accounts a unit disposed with this code needs, given its work cost and recovery value (and, for a
        standard-cost product, those of the end of its work)."""
        self.ensure_one()
        if self.treatment in WORK_TREATMENTS:
            return (
                ["location", "writedown"]
                + (["work_cost", "accrued_cost"] if work_cost else [])
                + (["nrv_allowance", "cost_variance"] if standard_cost else [])
            )
        if self.treatment == "salvage":
            return ["location"] + (["income", "recovery"] if recovery_value else [])
        if self.treatment == "destroy":
            return ["location"]
        return []
