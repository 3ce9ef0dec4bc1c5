import importlib.util
import os

from odoo.tests import TransactionCase, tagged

GENERATOR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench", "generate.py")


def load_generator():
    """bench/generate.py as a module (the bench scripts are not part of the addon's package)."""
    spec = importlib.util.spec_from_file_location("rma_generate", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@tagged("post_install", "-at_install")
class TestRmaGenerate(TransactionCase):
    """The depot generator (bench/generate.py) at a small size: its history keeps the addon's invariants (custody
    chains and seals verify, each step of the returns moves stock value and ledger alike), every state of the
    workflow is present, and the same seed gives the same history."""

    def test_generated_depot_keeps_the_invariants_and_is_reproducible(self):
        generate = load_generator()
        first = generate.Generator(self.env, rmas=30, seed=7, months=3, log=lambda message: None).run()
        self.assertEqual(first.stats["rmas"], 30)
        self.assertEqual(len(first.companies), 2)
        self.assertEqual(sum(len(warehouses) for warehouses in first.warehouses.values()), 5)
        checks = first.check()
        # FIFO rounds each unit's value to the cent: a step of several units may differ by a cent (see the NOTES of
        # bench/generate.py), never more.
        self.assertFalse(
            [gap for gap in first.step_gaps if abs(gap[-1]) > 0.011], "steps moving stock value and ledger differently"
        )
        for name, check in checks.items():
            self.assertTrue(check["integrity"], f"{name}: {check['message']}")
            self.assertGreater(check["seals"], 0, name)
            self.assertEqual(check["stock_ledger_gaps"], {}, name)
        self.assertTrue(any(check["stock_change"] for check in checks.values()), "the returns moved no stock value")
        events = sum(check["events"] for check in checks.values())
        self.assertGreaterEqual(events / first.unit_count, 5)
        states, codes = first.states()
        for state in ("draft", "authorized", "received", "inspection", "rejected", "closed"):
            self.assertIn(state, states)
        self.assertGreaterEqual(len(codes), 4, codes)

        second = generate.Generator(self.env, rmas=30, seed=7, months=3, log=lambda message: None).run()
        self.assertNotEqual(second.companies, first.companies)
        self.assertEqual(second.signature(), first.signature())
