from odoo import fields

from .common import RmaCommon


class RmaAccountingCommon(RmaCommon):
    """RmaCommon with the generic chart of accounts and real-time valuation on the test category."""

    @classmethod
    def _create_company(cls, **create_values):
        company = super()._create_company(**create_values)
        cls.env["account.chart.template"]._load("generic_coa", company, install_demo=False)
        return company

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.inventory_valuation = "real_time"
        cls.category.write({"property_valuation": "real_time", "property_cost_method": "fifo"})
        cls.stock_valuation_account = cls.laptop.product_tmpl_id._get_product_accounts()["stock_valuation"]
        cls.cogs_account = cls.laptop.product_tmpl_id._get_product_accounts()["expense"]
        cls.supplier_location = cls.env.ref("stock.stock_location_suppliers")

    @classmethod
    def _purchase(cls, product, serials, price):
        """Bring units in through a validated receipt at ``price`` each, so FIFO/AVCO have real costs.

        Without a purchase order, Odoo 19 values an incoming move at the product's cost: set it first."""
        product.standard_price = price
        # Odoo's average cost starts from the product's last manual cost and counts only the moves dated after it.
        # A test runs within a second or two: date that cost a minute back, before the goods arrive, as it would be.
        cls.env["product.value"].sudo().search([("product_id", "=", product.id), ("move_id", "=", False)]).write(
            {"date": fields.Datetime.subtract(fields.Datetime.now(), minutes=1)}
        )
        picking = cls.env["stock.picking"].create(
            {
                "picking_type_id": cls.warehouse.in_type_id.id,
                "location_id": cls.supplier_location.id,
                "location_dest_id": cls.stock_location.id,
                "move_ids": [
                    (
                        0,
                        0,
                        {
                            "product_id": product.id,
                            "product_uom_qty": len(serials),
                            "price_unit": price,
                            "location_id": cls.supplier_location.id,
                            "location_dest_id": cls.stock_location.id,
                        },
                    )
                ],
            }
        )
        picking.action_confirm()
        picking.move_ids.move_line_ids.unlink()
        picking.move_ids.write(
            {
                "move_line_ids": [
                    (0, 0, {"product_id": product.id, "lot_name": serial, "quantity": 1}) for serial in serials
                ],
                "picked": True,
            }
        )
        picking.button_validate()
        return picking

    def _values(self):
        """(stock value, ledger value) per stock valuation account, as the closing compares them."""
        company = self.company
        return dict(company.stock_value()), dict(company.stock_accounting_value())

    def _assert_step_balanced(self, before, after):
        """Across a step, each stock valuation account moves by as much in the ledger as in stock value."""
        (value_before, ledger_before), (value_after, ledger_after) = before, after
        for account in set(value_before) | set(value_after) | set(ledger_before) | set(ledger_after):
            delta_value = value_after.get(account, 0.0) - value_before.get(account, 0.0)
            delta_ledger = ledger_after.get(account, 0.0) - ledger_before.get(account, 0.0)
            self.assertAlmostEqual(delta_value, delta_ledger, places=2, msg=f"account {account.display_name}")
