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

from odoo.tests import Form, tagged

from .common_disposition import RmaDispositionCommon

COST = 100.0
SALE_PRICE = 250.0
CODES = ("RTS", "REF", "REP", "PH", "REC")


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
    RMAs, receive, inspect and dispose (RTS, REF, REP, PH, REC), credit from the RMA, credit natively (invoice
    reversal), reverse the invoice with *modify*, reset / cancel / repost / reverse a credit note, return natively with
    Odoo's wizard; FIFO, AVCO and standard cost; real-time and periodic valuation.

    After every step: each returned unit's COGS is reversed exactly once (its counting records equal its received
    value), and a step taken through the RMA (receive, dispose, credit from the RMA) moves every stock valuation account
    in the ledger by as much as in stock value."""

    def test_random_sequences(self):
        case = self
        case.customer.rma_advance_remedy = True
        sequence_ids = itertools.count()

        class AccountingMachine(RuleBasedStateMachine):
            def __init__(self):
                super().__init__()
                self.savepoint = case.env.cr.savepoint()
                self.prefix = f"FZ{next(sequence_ids)}"
                self.orders = []
                self.free_serials = {}  # serial: order, sold and neither on an RMA nor returned
                self.units = case.env["rma.line"]
                self.refunds = case.env["account.move"]

            def teardown(self):
                self.savepoint.close(rollback=True)
                case.env.invalidate_all(flush=False)

            # ----------------------------------------------------------
            @initialize(cost_method=st.sampled_from(["fifo", "average", "standard"]), real_time=st.booleans())
            def product(self, cost_method, real_time):
                self.product = case._new_product(cost_method, "real_time" if real_time else "periodic")
                self.real_time = real_time

            def _balanced(self, step, check=True):
                if not self.real_time or not check:
                    step()
                    return
                before = case._values()
                step()
                case._assert_step_balanced(before, case._values())

            # ----------------------------------------------------------
            @rule(count=st.integers(1, 3))
            def sell(self, count):
                serials = [
                    f"{self.prefix}-{len(self.free_serials) + len(self.units) + index}" for index in range(count)
                ]
                order = case._sold_and_invoiced(COST, self.product, serials, sale_price=SALE_PRICE)
                self.orders.append(order)
                self.free_serials.update(dict.fromkeys(serials, order))

            @precondition(lambda self: self.free_serials)
            @rule(data=st.data())
            def open_rma(self, data):
                order = data.draw(st.sampled_from(sorted(set(self.free_serials.values()), key=lambda order: order.id)))
                serials = sorted(serial for serial, of in self.free_serials.items() if of == order)
                chosen = data.draw(st.lists(st.sampled_from(serials), min_size=1, unique=True))
                rma = case._create_rma([(self.product, serial) for serial in chosen], sale_order_id=order.id)
                self._balanced(rma.with_user(case.rma_manager).action_authorize)
                self.units |= rma.line_ids
                for serial in chosen:
                    del self.free_serials[serial]

            def _units(self, state):
                return self.units.filtered(lambda unit: unit.state == state)

            @precondition(lambda self: self._units("authorized"))
            @rule(data=st.data())
            def receive(self, data):
                unit = data.draw(st.sampled_from(self._units("authorized")))
                # A credit note posted before the RMA reversed the unit's COGS without the goods (Odoo's own credit
                # note): the receipt then brings the goods without an entry, closing that gap.
                self._balanced(lambda: unit._action_receive(station="FUZZ"), check=not unit.is_cogs_reversed_by_refund)

            @precondition(lambda self: self._units("received") or self._units("inspection"))
            @rule(data=st.data(), code=st.sampled_from(CODES))
            def inspect_and_dispose(self, data, code):
                unit = data.draw(st.sampled_from(self._units("received") | self._units("inspection")))
                if unit.state == "received":
                    case._inspect(unit)
                self._balanced(lambda: case._dispose(unit, case.code[code]))

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
                    unit._action_create_credit_notes()
                    unit.credit_note_id.action_post()

                self._balanced(credit)
                self.refunds |= unit.credit_note_id

            def _invoices(self):
                invoices = case.env["account.move"].union(*(order.invoice_ids for order in self.orders))
                return invoices.filtered(
                    lambda move: (
                        move.move_type == "out_invoice" and move.state == "posted" and not move.reversal_move_ids
                    )
                )

            @precondition(lambda self: self._invoices())
            @rule(data=st.data())
            def native_credit_note(self, data):
                invoice = data.draw(st.sampled_from(self._invoices()))
                refund = invoice._reverse_moves()
                refund.action_post()
                self.refunds |= refund

            @precondition(lambda self: self._invoices())
            @rule(data=st.data())
            def modify_invoice(self, data):
                invoice = data.draw(st.sampled_from(self._invoices()))
                wizard = (
                    case.env["account.move.reversal"]
                    .with_context(active_model="account.move", active_ids=invoice.ids)
                    .create({"journal_id": invoice.journal_id.id, "reason": "modify"})
                )
                action = wizard.modify_moves()
                self.refunds |= invoice.reversal_move_ids
                case.env["account.move"].browse(action["res_id"]).unlink()

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
                if then == "cancel":
                    refund.button_cancel()
                else:
                    refund.action_post()

            @precondition(lambda self: self._posted_refunds())
            @rule(data=st.data())
            def reverse_credit_note(self, data):
                refund = data.draw(st.sampled_from(self._posted_refunds()))
                refund._reverse_moves(cancel=True)

            @precondition(lambda self: self.free_serials)
            @rule(data=st.data())
            def native_return(self, data):
                serial = data.draw(st.sampled_from(sorted(self.free_serials)))
                order = self.free_serials.pop(serial)
                delivery = order.picking_ids.filtered(lambda picking: picking.picking_type_code == "outgoing")
                wizard = Form(
                    case.env["stock.return.picking"].with_context(active_id=delivery.id, active_model="stock.picking")
                ).save()
                wizard.product_return_moves.quantity = 1
                picking = wizard._create_return()
                lot = case.env["stock.lot"].search([("name", "=", serial)])
                picking.move_ids.move_line_ids.unlink()
                picking.move_ids.write(
                    {
                        "move_line_ids": [
                            (
                                0,
                                0,
                                {
                                    "product_id": self.product.id,
                                    "lot_id": lot.id,
                                    "quantity": 1,
                                    "location_id": picking.location_id.id,
                                    "location_dest_id": picking.location_dest_id.id,
                                },
                            )
                        ],
                        "picked": True,
                    }
                )
                picking.button_validate()

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
