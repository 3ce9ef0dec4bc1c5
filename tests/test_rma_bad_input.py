import logging

from odoo import Command
from odoo.tests import tagged

from .common_rpc import RmaRpcCommon

_logger = logging.getLogger(__name__)

MODULE = "rma_recovery"
REFUSALS = {
    "odoo.exceptions.UserError",
    "odoo.exceptions.ValidationError",
    "odoo.exceptions.AccessError",
    "odoo.exceptions.MissingError",
}
NOT_TEXT = [{"a": 1}, ["text"], 12, 1.5, True, "a\x00b"]
NOT_NUMBER = ["12", float("nan"), float("inf"), float("-inf"), 1e20, {"a": 1}, [1], True]
NOT_ID = ["abc", -1, 2**40, 999_999_999, [1, 2], {"id": 1}, 1.5, True]
NOT_COMMANDS = ["abc", 5.5, {"a": 1}, [[9, 0, 0]], [["x"]], [[6, 0, "abc"]], [[1, "abc", {}]], [[4, -3]]]
BAD_VALUES = {
    "char": NOT_TEXT,
    "text": NOT_TEXT,
    "html": NOT_TEXT,
    "selection": ["no such choice", 3, {"a": 1}, ["draft"]],
    "integer": ["12", 1.5, 2**40, {"a": 1}, float("nan"), True],
    "float": NOT_NUMBER,
    "monetary": NOT_NUMBER,
    "boolean": ["yes", 2, {"a": 1}, [True], 0.5],
    "many2one": NOT_ID,
    "many2many": NOT_COMMANDS,
    "one2many": NOT_COMMANDS,
    "date": ["not a date", 12, {"a": 1}, "2026-13-45"],
    "datetime": ["not a date", 12, {"a": 1}, "2026-02-30 25:61:00"],
    "binary": [12, {"a": 1}, [1]],
}


@tagged("post_install", "-at_install")
class TestRmaBadInput(RmaRpcCommon):
    """A battery of malformed calls over JSON-RPC, as each group's user: every writable field of the addon's models
    with values of the wrong kind, and the public methods with arguments of the wrong kind. Each call must be
    refused in the user's terms (UserError, ValidationError, AccessError), write nothing, and leave the custody chain
    intact."""

    def _assert_refused(self, case, status, answer):
        self.assertEqual(status, 200, case)
        error = answer.get("error")
        self.assertTrue(error, f"{case}: accepted, answered {answer.get('result')!r}")
        self.assertIn(error["data"]["name"], REFUSALS, f"{case}: {error['data'].get('message')}")

    def _writable_fields(self, record):
        """The fields of the addon a user can write on ``record`` (the server-owned ones are refused anyway)."""
        return [
            name
            for name, field in record._fields.items()
            if field._module == MODULE
            and field.type in BAD_VALUES
            and not field.readonly
            and (field.store or field.inverse)
        ]

    def _battery_write(self, user, record):
        cases = 0
        for name in self._writable_fields(record):
            field = record._fields[name]
            before = record.sudo().read([name])
            for value in BAD_VALUES[field.type]:
                case = f"{user.login}: {record._name}.write({name}={value!r})"
                with self.subTest(case=case):
                    self._assert_refused(case, *self._rpc(user, record._name, "write", [record.ids, {name: value}]))
                    self.assertEqual(record.sudo().read([name]), before, f"{case} wrote something")
                cases += 1
        unknown = f"{user.login}: {record._name}.write(no_such_field=1)"
        self._assert_refused(unknown, *self._rpc(user, record._name, "write", [record.ids, {"no_such_field": 1}]))
        return cases + 1

    def _battery_create(self, user, model, valid_values):
        cases = 0
        records_before = self.env[model].sudo().search_count([])
        record = self.env[model]
        for name in self._writable_fields(record):
            for value in BAD_VALUES[record._fields[name].type]:
                case = f"{user.login}: {model}.create({name}={value!r})"
                with self.subTest(case=case):
                    self._assert_refused(case, *self._rpc(user, model, "create", [{**valid_values, name: value}]))
                cases += 1
        self.assertEqual(self.env[model].sudo().search_count([]), records_before, f"{model}: a record was created")
        return cases

    def test_malformed_calls_are_refused_and_write_nothing(self):
        self._deliver(self.customer, self.laptop, ["BAD-0001"])
        draft = self._create_rma([(self.laptop, "BAD-0001")], user=self.rma_user)
        received = self._authorized_rma(["BAD-0002", "BAD-0003"])
        self._scan(received.name, "BAD-0002")
        unit = received.line_ids.filtered(lambda line: line.serial_number == "BAD-0002")
        unit.with_user(self.rma_inspector).action_start_inspection()
        inspection = unit.inspection_id
        manager = self.rma_manager
        reason = self.env["rma.reason"].create({"name": "Bad input", "code": "BADIN", "is_proof_required": False})
        grade = self.env["rma.grade"].create({"name": "Bad input grade", "code": "BADG"})
        rule = self.env["rma.restocking.rule"].search([], limit=1)
        disposition_rule = self.env["rma.disposition.rule"].search([], limit=1)
        cases = 0

        # Every writable field, values of the wrong kind, as the group that may write the record.
        for user, record in (
            (self.rma_user, draft),
            (self.rma_user, draft.line_ids),
            (self.rma_inspector, inspection),
            (manager, reason),
            (manager, grade),
            (manager, self.code["REF"]),
            (manager, rule),
            (manager, disposition_rule),
        ):
            cases += self._battery_write(user, record)
        cases += self._battery_create(manager, "rma.reason", {"name": "Created", "code": "CRTD"})
        cases += self._battery_create(
            manager, "rma.reject.wizard", {"rma_ids": [Command.set(draft.ids)], "reason": "no"}
        )
        cases += self._battery_create(
            manager,
            "rma.disposition.wizard.line",
            {"unit_id": unit.id, "disposition_id": self.code["RTS"].id, "wizard_id": False},
        )

        # Public methods, arguments of the wrong kind.
        bad_codes = [True, ["BAD-0003"], {"code": 1}, 12, None, "", "\x00", "x" * 500]
        bad_ids = ["abc", [received.id, received.id], True, -4, 2**40, {"id": 1}, 1.5]
        bad_stations = [{"dock": 1}, ["DOCK"], 7, "a\x00b", "x" * 500]
        method_calls = []
        for code in bad_codes:
            method_calls += [
                ("rma.scan", "receive_scan", [code], {"rma_id": received.id}, None),
                ("rma.scan", "custody_scan", [code], {}, None),
            ]
        for record_id in bad_ids:
            method_calls += [
                ("rma.scan", "receive_scan", ["BAD-0003"], {"rma_id": record_id}, None),
                ("rma.scan", "custody_scan", ["BAD-0003"], {"line_id": record_id}, None),
                ("rma.scan", "receive_open", [record_id], {}, None),
                (
                    "rma.disposition.wizard",
                    "default_get",
                    [["line_ids"]],
                    {},
                    {"active_model": "rma.line", "active_ids": record_id},
                ),
            ]
        for station in bad_stations:
            method_calls.append(
                ("rma.scan", "receive_scan", ["BAD-0003"], {"rma_id": received.id, "station": station}, None)
            )
        for bad_reason in ({}, [], 5, None, "  "):
            method_calls.append(("rma.order", "action_reject", [draft.ids, bad_reason], {}, None))
        for model, method, args, kwargs, context in method_calls:
            case = f"manager: {model}.{method}({args!r}, {kwargs!r}, context={context!r})"
            with self.subTest(case=case):
                self._assert_refused(case, *self._rpc(manager, model, method, args, kwargs, context))
            cases += 1

        self.assertRecordValues(draft, [{"state": "draft", "name": False}])
        self.assertEqual(received.line_ids.mapped("state"), ["inspection", "authorized"])
        self.assertRecordValues(inspection, [{"state": "draft", "grade_id": False}])
        integrity = self.env["rma.custody.event"]._check_integrity(self.company)
        self.assertTrue(integrity["ok"], integrity.get("message"))
        # The size of the battery, for the log of the run.
        _logger.info("bad-input battery: %s malformed calls over JSON-RPC, all refused", cases)
        self.assertGreater(cases, 300)

    def test_wrong_shapes_ids_and_form_quantities_are_refused(self):
        """What still ended in a traceback: a create given something else than values, records given by something
        else than ids (``call_kw`` browses them unchecked), and quantities Odoo converts before any create runs (an
        RMA's units created with it, a form's onchange)."""
        rma = self._create_rma([(self.cable, None, 2.0)], user=self.rma_user)
        line = rma.line_ids
        manager, user = self.rma_manager, self.rma_user
        counts = {model: self.env[model].sudo().search_count([]) for model in ("rma.order", "rma.line")}
        checked = sorted(
            name
            for name, model in self.env.registry.items()
            if not model._abstract and hasattr(model, "_check_input_values")
        )
        calls = []
        for model in checked:
            calls += [(manager, model, "create", [values]) for values in ("abc", [["x"]], [1, 2])]
            actions = sorted(name for name in dir(self.env.registry[model]) if name.startswith("action_"))
            for method in ("write", "read", "unlink", *actions):
                for ids in (["x"], "x", [None], 1.5):
                    calls.append((manager, model, method, [ids, {"sequence": 1}] if method == "write" else [ids]))
        for quantity in (float("nan"), float("inf"), 1e308, "abc"):
            unit = {"product_id": self.cable.id, "quantity": quantity}
            calls += [
                (
                    user,
                    "rma.order",
                    "create",
                    [{"partner_id": self.customer.id, "reason_id": self.reason.id, "line_ids": [[0, 0, unit]]}],
                ),
                (
                    user,
                    "rma.order",
                    "onchange",
                    [
                        [],
                        {"partner_id": self.customer.id, "line_ids": [[0, "virtual_1", unit]]},
                        ["line_ids"],
                        {"partner_id": {}, "line_ids": {"fields": {"product_id": {}, "quantity": {}}}},
                    ],
                ),
                (user, "rma.line", "onchange", [line.ids, {"quantity": quantity}, ["quantity"], {"quantity": {}}]),
                (
                    manager,
                    "rma.harvest.wizard.line",
                    "onchange",
                    [[], unit, ["quantity"], {"product_id": {}, "quantity": {}}],
                ),
            ]
        for call_user, model, method, args in calls:
            case = f"{call_user.login}: {model}.{method}{tuple(args)!r}"
            with self.subTest(case=case):
                self._assert_refused(case, *self._rpc(call_user, model, method, args))
        self.assertEqual(
            {model: self.env[model].sudo().search_count([]) for model in counts}, counts, "a record was created"
        )
        self.assertRecordValues(line, [{"quantity": 2.0, "state": "draft"}])
        self.assertGreater(len(calls), 200)
        # Odoo's Share button, as the form calls it, still opens the share wizard.
        share = rma.with_user(manager).with_context(active_id=rma.id, active_model="rma.order").action_share()
        self.assertEqual(share["res_model"], "portal.share")
