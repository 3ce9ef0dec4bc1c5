"""Random sequences of what users do, and the accounting invariants after every step (hypothesis stateful test).

``make test`` runs a bounded, derandomized number of sequences; ``make fuzz`` many more with a random seed
(RMA_FUZZ_EXAMPLES, RMA_FUZZ_SEED), and hypothesis prints the shrunk failing sequence if any.
"""

import itertools
import os

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from odoo import Command
from odoo.tests import tagged

from .common_disposition import RmaDispositionCommon

COST = 100.0
SALE_PRICE = 250.0
CODES = ("RTS", "REF", "REP", "PH", "REC", "SD")
RECOVERY = 30.0


def fuzz_settings():
    examples = int(os.environ.get("RMA_FUZZ_EXAMPLES", "12"))
    seed = os.environ.get("RMA_FUZZ_SEED")
    return settings(
        max_examples=examples,
        stateful_step_count=int(os.environ.get("RMA_FUZZ_STEPS", "10")),
        derandomize=seed is None,
        deadline=None,
        database=None,
        phases=[Phase.generate, Phase.shrink] if seed is not None else [Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )


@tagged("post_install", "-at_install")
class TestRmaAccountingFuzz(RmaDispositionCommon):
    """Accounting contract, invariants 1, 2 and 5 on random sequences: sell and invoice serial units, open and authorize
    RMAs, receive, inspect and dispose (RTS, REF, REP, PH, REC, SD), finish or cancel the work, harvest parts, credit
    from the RMA, credit natively (invoice reversal), reverse the invoice with *modify*, reset / cancel / repost /
    reverse a credit note, return natively with Odoo's wizard; FIFO, AVCO and standard cost; real-time and periodic
    valuation.

    After every step: each returned unit's COGS is reversed exactly once (its counting records equal its received
    value), the custody chains verify, and (real-time) each stock valuation account moves as much in the ledger as in
    stock value, except by what the test's own model of Odoo's documents predicts for the product's account: an Odoo
    credit note reverses COGS ahead of goods not back yet, an Odoo customer return posts nothing, and the receipt of a
    unit so credited posts nothing either. Resetting or reversing a credit note is checked by the per-unit invariant
    only."""

    # The machine class defined inside calls super() in its __init__: nothing to return here.
    def test_random_sequences(self):  # pylint: disable=missing-return
        case = self
        case.customer.rma_advance_remedy = True
        sequence_ids = itertools.count()

        class AccountingMachine(RuleBasedStateMachine):
            def __init__(self):
                super().__init__()
                self.savepoint = case.env.cr.savepoint()
                self.prefix = f"FZ{next(sequence_ids)}"
                self.orders = []
                self.sold = 0
                self.free_serials = {}  # serial: order, sold and neither on an RMA nor returned
                self.units = case.env["rma.line"]
                self.refunds = case.env["account.move"]
                # The test's own model of the ledger (independent of the addon's records): the serials whose COGS
                # Odoo's credit notes reversed before their goods came back ("advance"); their return then posts
                # nothing, every other return is reversed once by the RMA receipt.
                self.serials_of = {}  # order: its serials
                self.invoice_of = {}  # order: the invoice of its units
                self.advance = set()
                self.advance_of = {}  # credit note id: the serials it reversed in advance

            def teardown(self):
                self.savepoint.close(rollback=True)
                case.env.invalidate_all(flush=False)

            # ----------------------------------------------------------
            @initialize(
                cost_method=st.sampled_from(["fifo", "average", "standard"]),
                real_time=st.booleans(),
                sold=st.integers(1, 3),
                returned=st.integers(0, 3),
                received=st.booleans(),
            )
            def start(self, cost_method, real_time, sold, returned, received):
                """A product, an order of it delivered and invoiced, and (most often) an RMA for some of its units,
                received or not: the sequences start where returns begin."""
                self.product = case._new_product(cost_method, "real_time" if real_time else "periodic")
                self.part = case._create_product(f"{self.prefix} memory module", tracking="none")
                # Units in stock to send as replacements.
                self.spares = [f"{self.prefix}-SPARE-{index}" for index in range(2)]
                case._purchase(self.product, self.spares, COST)
                self.harvested = {}
                self.real_time = real_time
                self.sell(sold)
                serials = sorted(self.free_serials)[: min(returned, sold)]
                if serials:
                    self._open_rma(self.orders[0], serials)
                    if received:
                        case.env["stock.picking"]._rma_receive(self.units, station="FUZZ")

            def _balanced(self, step, check=True, gap=0):
                """Run ``step``; in real-time valuation each stock valuation account moves as much in the ledger as in
                stock value, except the product's, whose ledger moves ``gap`` units of COST more (Odoo's credit notes
                reverse COGS for goods not back yet; its returns post nothing)."""
                if not self.real_time or not check:
                    step()
                    return
                (value_before, ledger_before) = case._values()
                step()
                (value_after, ledger_after) = case._values()
                for account in set(value_before) | set(value_after) | set(ledger_before) | set(ledger_after):
                    delta_value = value_after.get(account, 0.0) - value_before.get(account, 0.0)
                    delta_ledger = ledger_after.get(account, 0.0) - ledger_before.get(account, 0.0)
                    expected = gap * COST if account == case.stock_valuation_account else 0.0
                    case.assertAlmostEqual(delta_ledger - delta_value, expected, places=2, msg=account.display_name)

            def _order_serials(self, order):
                return self.serials_of[order]

            def _rma_units_of(self, order):
                return self.units.filtered(lambda unit: unit.serial_number in self.serials_of[order])

            # ----------------------------------------------------------
            @rule(count=st.integers(1, 3))
            def sell(self, count):
                serials = [f"{self.prefix}-{self.sold + index}" for index in range(count)]
                self.sold += count
                # Not closed after the purchase: the steps compare how stock value and ledger move, not their levels.
                order = case._sold_and_invoiced(COST, self.product, serials, sale_price=SALE_PRICE, close=False)
                self.orders.append(order)
                self.serials_of[order] = set(serials)
                self.invoice_of[order] = order.invoice_ids
                self.free_serials.update(dict.fromkeys(serials, order))

            @precondition(lambda self: self.free_serials)
            @rule(data=st.data())
            def open_rma(self, data):
                order = data.draw(st.sampled_from(sorted(set(self.free_serials.values()), key=lambda order: order.id)))
                serials = sorted(serial for serial, of in self.free_serials.items() if of == order)
                self._open_rma(order, data.draw(st.lists(st.sampled_from(serials), min_size=1, unique=True)))

            def _open_rma(self, order, serials):
                rma = case._create_rma([(self.product, serial) for serial in serials], sale_order_id=order.id)
                self._balanced(rma.with_user(case.rma_manager).action_authorize)
                self.units |= rma.line_ids
                for serial in serials:
                    del self.free_serials[serial]

            def _units(self, state):
                return self.units.filtered(lambda unit: unit.state == state)

            @precondition(lambda self: self._units("authorized"))
            @rule(data=st.data())
            def receive(self, data):
                unit = data.draw(st.sampled_from(self._units("authorized")))
                # A credit note reversed the unit's COGS before the goods came back: the receipt posts nothing.
                gap = -1 if unit.serial_number in self.advance else 0
                self._balanced(lambda: case.env["stock.picking"]._rma_receive(unit, station="FUZZ"), gap=gap)

            @precondition(lambda self: self._units("received") or self._units("inspection"))
            @rule(data=st.data(), code=st.sampled_from(CODES))
            def inspect_and_dispose(self, data, code):
                unit = data.draw(st.sampled_from(self._units("received") | self._units("inspection")))
                if unit.state == "received":
                    case._inspect(unit)
                values = {"REP": {"repair_level": "l2"}, "PH": {"recovery_value": RECOVERY}}.get(code, {})
                self._balanced(lambda: case._dispose(unit, case.code[code], **values))

            def _harvestable(self):
                return self.units.filtered(
                    lambda unit: (
                        unit.state == "closed"
                        and unit.disposition_id == case.code["PH"]
                        and self.harvested.get(unit, 0.0) < RECOVERY
                    )
                )

            @precondition(lambda self: self._harvestable())
            @rule(data=st.data(), value=st.sampled_from([5.0, 10.0, 15.0]))
            def harvest(self, data, value):
                unit = data.draw(st.sampled_from(self._harvestable()))
                value = min(value, RECOVERY - self.harvested.get(unit, 0.0))
                self._balanced(
                    lambda: (
                        case.env["rma.harvest.wizard"]
                        .with_user(case.rma_inspector)
                        .create(
                            {
                                "unit_id": unit.id,
                                "part_ids": [
                                    Command.create({"product_id": self.part.id, "quantity": 1.0, "unit_value": value})
                                ],
                            }
                        )
                        .action_confirm()
                    )
                )
                self.harvested[unit] = self.harvested.get(unit, 0.0) + value

            @precondition(lambda self: self._units("in_progress"))
            @rule(data=st.data(), finish=st.booleans())
            def end_work(self, data, finish):
                unit = data.draw(st.sampled_from(self._units("in_progress")))

                def end():
                    if unit.repair_id:
                        if finish:
                            unit.repair_id.action_repair_start()
                            unit.repair_id.action_repair_end()
                        else:
                            unit.repair_id.action_repair_cancel()
                    elif finish:
                        unit.with_user(case.rma_inspector).action_finish_refurbishment()
                    else:
                        unit.with_user(case.rma_inspector).action_cancel_refurbishment()

                self._balanced(end)

            def _replaceable(self):
                return self.units.filtered(
                    lambda unit: (
                        unit.can_confirm_remedy
                        and not unit.credit_note_line_id
                        and not unit.remedy_move_ids
                        and unit.state != "draft"
                    )
                )

            @precondition(lambda self: self.spares and self._replaceable())
            @rule(data=st.data())
            def replace(self, data):
                """A manager confirms a replacement; its delivery from stock is validated (warranty expense)."""
                unit = data.draw(st.sampled_from(self._replaceable()))
                lot = case.env["stock.lot"].search([("name", "=", self.spares.pop())])

                def replace():
                    case._confirm(unit, "replacement")
                    picking = unit.rma_id._create_replacements(unit)
                    case._validate_with_lots(picking, lot)

                self._balanced(replace)
                case.assertEqual(unit.remedy_state, "done")

            def _creditable(self):
                return self.units.filtered(
                    lambda unit: (
                        unit.state not in ("draft", "rejected", "cancel")
                        and not unit.credit_note_line_id
                        and not unit.is_cogs_reversed_by_refund
                        and unit.remedy == "refund"
                    )
                )

            @precondition(lambda self: self._creditable())
            @rule(data=st.data())
            def credit_from_rma(self, data):
                unit = data.draw(st.sampled_from(self._creditable()))

                def credit():
                    unit.rma_id._create_credit_notes(unit)
                    unit.credit_note_id.action_post()

                self._balanced(credit)
                self.refunds |= unit.credit_note_id

            def _invoices(self):
                """The orders' own invoices (of all their units, with their COGS), not reversed yet."""
                invoices = case.env["account.move"].union(*self.invoice_of.values())
                return invoices.filtered(
                    lambda move: (
                        move.move_type == "out_invoice" and move.state == "posted" and not move.reversal_move_ids
                    )
                )

            @precondition(lambda self: self._invoices())
            @rule(data=st.data())
            def native_credit_note(self, data):
                invoice = data.draw(st.sampled_from(self._invoices()))
                order = invoice.line_ids.sale_line_ids.order_id
                on_rma = self._rma_units_of(order)
                free = {serial for serial, of in self.free_serials.items() if of == order}
                # Odoo reverses COGS for the units without an RMA (returned natively or not); the RMA units' receipt
                # reverses theirs.
                gap = len(self._order_serials(order)) - len(on_rma)

                def credit():
                    refund = invoice._reverse_moves()
                    refund.action_post()
                    self.refunds |= refund
                    self.advance_of[refund.id] = free

                self._balanced(credit, gap=gap)
                self.advance |= free

            @precondition(lambda self: self._invoices())
            @rule(data=st.data())
            def modify_invoice(self, data):
                invoice = data.draw(st.sampled_from(self._invoices()))
                order = invoice.line_ids.sale_line_ids.order_id
                on_rma = self._rma_units_of(order)
                received = on_rma.filtered("quantity_received")
                ahead = {serial for serial, of in self.free_serials.items() if of == order} | set(
                    (on_rma - received).mapped("serial_number")
                )
                # Odoo copies the invoice's COGS lines: the received units' copy is countered at once.
                gap = len(self._order_serials(order)) - len(received)

                def modify():
                    wizard = (
                        case.env["account.move.reversal"]
                        .with_context(active_model="account.move", active_ids=invoice.ids)
                        .create({"journal_id": invoice.journal_id.id, "reason": "modify"})
                    )
                    action = wizard.modify_moves()
                    self.refunds |= invoice.reversal_move_ids
                    self.advance_of[invoice.reversal_move_ids.id] = ahead
                    case.env["account.move"].browse(action["res_id"]).unlink()

                self._balanced(modify, gap=gap)
                self.advance |= ahead

            def _posted_refunds(self):
                return self.refunds.filtered(
                    lambda move: (
                        move.state == "posted"
                        and move.move_type == "out_refund"
                        and not move.reversal_move_ids
                        and move.journal_id.type == "sale"
                    )
                )

            @precondition(lambda self: self._posted_refunds())
            @rule(data=st.data(), then=st.sampled_from(["cancel", "repost"]))
            def reset_credit_note(self, data, then):
                refund = data.draw(st.sampled_from(self._posted_refunds()))
                refund.button_draft()
                self.advance -= self.advance_of.pop(refund.id, set())
                if then == "cancel":
                    refund.button_cancel()
                else:
                    refund.action_post()
                    order = (
                        refund.line_ids.sale_line_ids.order_id[:1]
                        or refund.reversed_entry_id.line_ids.sale_line_ids.order_id[:1]
                    )
                    if order in self.serials_of and not refund.line_ids.rma_line_id:
                        free = {serial for serial, of in self.free_serials.items() if of == order}
                        self.advance_of[refund.id] = free
                        self.advance |= free

            @precondition(lambda self: self._posted_refunds())
            @rule(data=st.data())
            def reverse_credit_note(self, data):
                refund = data.draw(st.sampled_from(self._posted_refunds()))
                refund._reverse_moves(cancel=True)
                self.advance -= self.advance_of.pop(refund.id, set())

            @precondition(lambda self: self.free_serials)
            @rule(data=st.data())
            def native_return(self, data):
                serial = data.draw(st.sampled_from(sorted(self.free_serials)))
                order = self.free_serials.pop(serial)
                delivery = order.picking_ids.filtered(lambda picking: picking.picking_type_code == "outgoing")
                lot = case.env["stock.lot"].search([("name", "=", serial)])
                # Odoo posts nothing for a customer return: the ledger moves one unit less than stock value.
                self._balanced(lambda: case._native_return(delivery, lot), gap=-1)

            # ----------------------------------------------------------
            @invariant()
            def cogs_reversed_once(self):
                if not self.units:
                    return
                case.env.invalidate_all()
                mismatched = case.env["rma.line"].search(
                    [("id", "in", self.units.ids), ("is_cogs_reversal_mismatch", "=", True)]
                )
                details = [
                    (
                        unit.display_name,
                        unit.receipt_value,
                        unit.cogs_reversed_amount,
                        unit.cogs_reversal_ids.read(["kind", "quantity", "amount", "is_counting", "move_id"]),
                    )
                    for unit in mismatched
                ]
                case.assertFalse(mismatched, f"COGS not reversed exactly once: {details}")

            @invariant()
            def custody_chains_verify(self):
                integrity = case.env["rma.custody.event"]._check_integrity(case.company)
                case.assertTrue(integrity["ok"], integrity.get("message"))

        run_state_machine_as_test(AccountingMachine, settings=fuzz_settings())
