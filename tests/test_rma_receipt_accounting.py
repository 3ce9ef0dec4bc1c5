from odoo.exceptions import UserError
from odoo.tests import tagged

from .common_accounting import RmaAccountingCommon


@tagged("post_install", "-at_install")
class TestRmaReceiptAccounting(RmaAccountingCommon):
    """Contract, first row: the receipt into quarantine posts Dr stock / Cr COGS at the receipt move's value."""

    def _returned(self, serials, cost_method, price=500.0):
        self.category.property_cost_method = cost_method
        if cost_method == "standard":
            self.laptop.standard_price = price
        self._purchase(self.laptop, serials, price)
        self._deliver(self.customer, self.laptop, serials, from_stock=True)
        rma = self._create_rma([(self.laptop, serial) for serial in serials])
        rma.action_authorize()
        return rma

    def test_receipt_entry_per_cost_method(self):
        for index, cost_method in enumerate(("fifo", "average", "standard")):
            with self.subTest(cost_method=cost_method):
                serial = f"AC-{index:04d}"
                rma = self._returned([serial], cost_method)
                line = rma.line_ids
                before = self._values()
                # Warehouse staff scan: they have no accounting rights, the entry is posted all the same.
                self._scan(rma.name, serial, user=self.rma_user)
                self._assert_step_balanced(before, self._values())
                move = line.receipt_move_ids
                self.assertAlmostEqual(move.value, 500.0)
                entry = line.account_move_line_ids.move_id
                self.assertEqual(len(entry), 1)
                self.assertFalse(entry.inalterable_hash, "the company seal hashes the RMA journal, not the posting")
                self.assertEqual(rma.journal_item_count, 2)
                self.assertEqual(
                    self.env["account.move.line"].search(rma.action_view_journal_items()["domain"]), entry.line_ids
                )
                self.assertRecordValues(
                    entry, [{"state": "posted", "journal_id": self.company._get_rma_journal().id, "ref": rma.name}]
                )
                label = f"{rma.name} {serial} RECEIPT"
                self.assertRecordValues(
                    entry.line_ids.sorted("debit", reverse=True),
                    [
                        {
                            "account_id": self.stock_valuation_account.id,
                            "debit": 500.0,
                            "credit": 0.0,
                            "name": label,
                            "rma_line_id": line.id,
                        },
                        {
                            "account_id": self.cogs_account.id,
                            "debit": 0.0,
                            "credit": 500.0,
                            "name": label,
                            "rma_line_id": line.id,
                        },
                    ],
                )

    def test_receipt_entry_posted_once_per_unit_in_a_batch(self):
        serials = [f"AC-1{index:03d}" for index in range(4)]
        rma = self._returned(serials, "fifo", price=320.0)
        before = self._values()
        self.env["stock.picking"]._rma_receive(rma.line_ids, station="BULK")
        self._assert_step_balanced(before, self._values())
        entries = rma.line_ids.account_move_line_ids.move_id
        self.assertEqual(len(entries), 1, "one entry for the batch")
        self.assertEqual(len(entries.line_ids), 8, "one debit and one credit per unit")
        self.assertEqual(entries.line_ids.rma_line_id, rma.line_ids)
        cogs_lines = entries.line_ids.filtered(lambda aml: aml.account_id == self.cogs_account)
        self.assertAlmostEqual(sum(cogs_lines.mapped("credit")), 4 * 320.0)
        with self.assertRaisesRegex(UserError, "already received"):
            self.env["stock.picking"]._rma_receive(rma.line_ids[:1])
        self.assertEqual(len(rma.line_ids.account_move_line_ids.move_id), 1, "no second COGS reversal")

    def test_substitution_is_received_at_zero_value_until_accepted(self):
        # Not "standard": there Odoo values stock at quantity x standard price whatever the move's value, so a
        # zero-valued unit still adds its standard price to stock value (reported on the issue; #4 decides).
        for index, cost_method in enumerate(("fifo", "average")):
            with self.subTest(cost_method=cost_method):
                rma = self._returned([f"AC-20{index:02d}"], cost_method)
                other = f"AC-OTHER-{index}"
                self._purchase(self.laptop, [other], 500.0)
                self._deliver(self.other_customer, self.laptop, [other], from_stock=True)
                before = self._values()
                self._scan(rma.name, other)
                substitute = rma.line_ids.filtered("is_substitution")
                self.assertEqual(substitute.receipt_move_ids.value, 0.0)
                self.assertFalse(substitute.account_move_line_ids)
                self._assert_step_balanced(before, self._values())

                # Accepted: re-linked to the delivery of the serial that came in, valued from it, receipt entry.
                before = self._values()
                substitute.with_user(self.rma_manager).action_accept_substitution()
                self._assert_step_balanced(before, self._values())
                receipt = substitute.receipt_move_ids
                delivered = self.env["stock.move.line"].search(
                    [("lot_id.name", "=", other), ("location_dest_id", "=", self.customer_location.id)]
                )
                self.assertTrue(delivered)
                self.assertEqual(receipt.origin_returned_move_id, delivered.move_id)
                self.assertAlmostEqual(receipt.value, 500.0)
                self.assertRecordValues(
                    substitute.account_move_line_ids.sorted("debit", reverse=True),
                    [
                        {"account_id": self.stock_valuation_account.id, "debit": 500.0, "credit": 0.0},
                        {"account_id": self.cogs_account.id, "debit": 0.0, "credit": 500.0},
                    ],
                )

    def test_periodic_valuation_posts_nothing(self):
        self.category.property_valuation = "periodic"
        rma = self._returned(["AC-3001"], "fifo")
        self._scan(rma.name, "AC-3001")
        self.assertFalse(rma.line_ids.account_move_line_ids)
