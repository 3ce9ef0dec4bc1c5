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
        # A seed whose 30 RMAs reach every state (seed 7 leaves none authorized since the warehouses run in step).
        first = generate.Generator(self.env, rmas=30, seed=3, months=3, log=lambda message: None).run()
        self.assertEqual(first.stats["rmas"], 30)
        self.assertEqual(len(first.companies), 2)
        self.assertEqual(sum(len(warehouses) for warehouses in first.warehouses.values()), 5)
        checks = first.check()
        # Each step of the returns moves stock value and ledger alike, to the cent (FIFO: units leaving together take
        # the change of the rounded stock value, see tests/test_rma_valuation_rounding.py).
        self.assertEqual(first.step_gaps, [], "steps moving stock value and ledger differently")
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

        second = generate.Generator(self.env, rmas=30, seed=3, months=3, log=lambda message: None).run()
        self.assertNotEqual(second.companies, first.companies)
        self.assertEqual(second.signature(), first.signature())

    def test_average_cost_history_keeps_stock_and_ledger_equal(self):
        """With average cost, Odoo replays a product's moves by date: the history's clock never goes back (the
        warehouses' months run in step), so each step's stock value change is what the ledger says."""
        generate = load_generator()
        history = generate.Generator(
            self.env, rmas=30, seed=7, months=3, log=lambda message: None, cost_method="average"
        ).run()
        self.assertEqual(history.step_gaps, [], "steps moving stock value and ledger differently")
        for name, check in history.check().items():
            self.assertEqual(check["stock_ledger_gaps"], {}, name)
            self.assertTrue(check["integrity"], f"{name}: {check['message']}")
