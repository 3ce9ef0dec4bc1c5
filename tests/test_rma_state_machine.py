from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from odoo.addons.rma_recovery.models.rma_line import ON_HAND_STATES, UNIT_TRANSITIONS

from .common import RmaCommon
from .common_disposition import RmaDispositionCommon


@tagged("post_install", "-at_install")
class TestRmaStateMachine(RmaCommon):
    """The unit's states change only along UNIT_TRANSITIONS, through RmaLine._transition; the RMA follows."""

    def _unit_in(self, state):
        rma = self._create_rma([(self.laptop, f"SM-{state}")])
        unit = rma.line_ids
        unit.sudo().write({"state": state})  # the starting point only: the server's own write
        return unit

    def test_every_transition_allowed_or_refused(self):
        states = list(UNIT_TRANSITIONS)
        self.assertEqual(set(states), set(dict(self.env["rma.line"]._fields["state"].selection)))
        for current in states:
            for target in states:
                with self.subTest(current=current, target=target):
                    unit = self._unit_in(current)
                    events = len(unit.custody_event_ids)
                    if target in UNIT_TRANSITIONS[current]:
                        unit._transition(target)
                        self.assertEqual(unit.state, target)
                        logged = len(unit.custody_event_ids) - events
                        self.assertEqual(logged, int(current in ON_HAND_STATES), "an event while in our custody")
                    else:
                        with self.assertRaisesRegex(UserError, "cannot go from"):
                            unit._transition(target)
                        self.assertEqual(unit.state, current)
                        self.assertEqual(len(unit.custody_event_ids), events)

    def test_a_client_cannot_write_a_status(self):
        unit = self._unit_in("received")
        for user in (self.rma_user, self.rma_manager):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                unit.with_user(user).write({"state": "closed"})
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                unit.rma_id.with_user(user).write({"state": "done"})
        self.assertEqual(unit.state, "received")

    def test_rma_state_is_computed_from_its_units(self):
        rma = self._create_rma([(self.laptop, "SM-A"), (self.laptop, "SM-B")])
        first, second = rma.line_ids
        rma.line_ids.remedy_requested = "none"  # the remedies' part: test_remedy_keeps_the_rma_open
        expectations = [
            (("draft", "draft"), "draft"),
            (("authorized", "authorized"), "authorized"),
            (("received", "authorized"), "in_progress"),
            (("closed", "authorized"), "in_progress"),
            (("closed", "cancel"), "done"),
            (("closed", "closed"), "done"),
            (("rejected", "rejected"), "rejected"),
            (("cancel", "cancel"), "cancel"),
            (("in_progress", "disposition"), "in_progress"),
        ]
        for (first_state, second_state), rma_state in expectations:
            with self.subTest(units=(first_state, second_state)):
                first.sudo().state = first_state
                second.sudo().state = second_state
                self.assertEqual(rma.state, rma_state)
        self.assertEqual(self._create_rma([]).state, "draft", "a request without units")

    def test_remedy_keeps_the_rma_open(self):
        """Closed units whose refund is not credited yet (or credited in a draft) leave their RMA In Progress."""
        rma = self._create_rma([(self.laptop, "SM-C")])
        rma.line_ids.sudo().state = "closed"
        self.assertEqual(rma.line_ids.remedy_state, "pending")
        self.assertEqual(rma.state, "in_progress")
        rma.line_ids.sudo().remedy = "none"
        self.assertEqual(rma.state, "done")

    def test_an_rma_without_units_is_not_decided(self):
        rma = self._create_rma([])
        with self.assertRaisesRegex(UserError, "no units"):
            rma.with_user(self.rma_manager).action_reject("No units")
        with self.assertRaisesRegex(UserError, "no units"):
            rma.with_user(self.rma_manager).action_cancel()
        self.assertEqual(rma.state, "draft")


@tagged("post_install", "-at_install")
class TestRmaStageDates(RmaDispositionCommon):
    """Each unit keeps the time of every stage, written by the server in the step itself."""

    def test_every_stage_is_timed_by_the_server(self):
        units = self._inspected_units(self.laptop, ["SD-0001", "SD-0002"])
        ref, rts = units
        self._dispose(
            units, {ref: self.code["REF"], rts: self.code["RTS"]}, per_unit={ref: {"net_realizable_value": 300.0}}
        )
        ref.with_user(self.rma_inspector).action_finish_refurbishment()
        stages = [
            "authorized_date",
            "received_date",
            "inspection_start_date",
            "inspection_done_date",
            "disposition_date",
            "work_finished_date",
        ]
        dates = [ref[name] for name in stages]
        self.assertTrue(all(dates), dict(zip(stages, dates, strict=True)))
        self.assertEqual(dates, sorted(dates), "in the order of the workflow")
        self.assertFalse(ref.closed_date, "in graded stock, not closed yet")
        self.assertTrue(rts.closed_date, "RTS closes at its disposition")
        self.assertGreaterEqual(rts.closed_date, rts.disposition_date)
        for name in (*stages, "closed_date"):
            with self.subTest(field=name), self.assertRaises(AccessError):
                ref.with_user(self.rma_manager).write({name: "2020-01-01 00:00:00"})
