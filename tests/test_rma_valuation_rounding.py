from odoo.tests import tagged

from .common_disposition import RmaDispositionCommon


@tagged("post_install", "-at_install")
class TestRmaValuationRounding(RmaDispositionCommon):
    """Units leaving stock together at a cost that is not a whole number of cents (7 units received for 100.00):
    Odoo values each unit's move to the cent, while a product's stock value keeps the fractions and is rounded once.
    The units of one step must move the ledger by what the stock value moved, to the cent (the accounting
    contract's first invariant), not by a rounding of each unit that drifts a cent a step."""

    def _returned_units(self, product, bought, returned, total):
        """``bought`` units received for ``total`` together, ``returned`` of them delivered to the customer,
        returned, received into quarantine and inspected."""
        serials = [f"VR{product.id}-{index}" for index in range(bought)]
        receipt = self._purchase(product, serials, total / bought)
        if product.cost_method == "fifo":
            # Odoo values a receipt without purchase at the cost to the cent (14.29 x 7): the vendor bill's total.
            receipt.move_ids.value_manual = total
            self.assertEqual(receipt.move_ids.value, total)
        self._deliver(self.customer, product, serials[-returned:], from_stock=True)
        rma = self._create_rma([(product, serial) for serial in serials[-returned:]])
        rma.action_authorize()
        self.env["stock.picking"]._rma_receive(rma.line_ids, station="DOCK-1")
        return self._inspect(rma.line_ids)

    def _assert_step_to_the_cent(self, lines, code):
        before = self._values()
        self._dispose(lines, self.code[code])
        after = self._values()
        self._assert_step_balanced(before, after)
        change = before[0][self.stock_valuation_account] - after[0][self.stock_valuation_account]
        # The units' book values (their moves' values, Odoo's entry) add up to the stock value's change.
        self.assertEqual(self.company.currency_id.compare_amounts(sum(lines.mapped("book_value")), change), 0)
        return change

    def test_fifo_units_of_one_step_leave_at_the_stock_value_change(self):
        product = self._new_product("fifo")
        lines = self._returned_units(product, bought=7, returned=2, total=100.0)
        # FIFO takes the oldest cost, two sevenths of the receipt (14.2857 each): the queue goes from 5/7 to 3/7 of
        # 100.00, 71.43 to 42.86, a change of 28.57, where unit by unit Odoo would say 14.29 + 14.29.
        self.assertAlmostEqual(self._assert_step_to_the_cent(lines, "PH"), 28.57, places=6)
        self.assertEqual(sorted(lines.mapped("book_value")), [14.28, 14.29])

    def test_fifo_units_of_several_products_in_one_step(self):
        products = self._new_product("fifo") | self._new_product("fifo")
        lines = self._returned_units(products[0], bought=7, returned=2, total=100.0)
        lines |= self._returned_units(products[1], bought=7, returned=2, total=100.0)
        # Same account: unit by unit, two cents off.
        self.assertAlmostEqual(self._assert_step_to_the_cent(lines, "REC"), 57.14, places=6)

    def test_average_cost_units_of_one_step_leave_at_the_stock_value_change(self):
        product = self._new_product("average")
        lines = self._returned_units(product, bought=7, returned=3, total=100.0)
        self._assert_step_to_the_cent(lines, "REC")
