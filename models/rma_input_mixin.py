import datetime
import math

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.orm.identifiers import NewId

from .rma_workflow_guard import is_server_write

MAX_INTEGER = 2**31 - 1
MAX_AMOUNT = 1e15  # beyond it a figure is a typing error (and past what numeric columns hold exactly)


class RmaInputMixin(models.AbstractModel):
    """Values a client sends to create or write the addon's records are checked against their fields first.

    Over JSON-RPC any value can arrive for any field: a dict for a name, NaN for an amount, a string for an id, a NUL
    character. Odoo would pass most of them on to PostgreSQL and answer with a traceback; here each is refused with a
    ValidationError that names the field, before anything is written. The same holds for the ids of the records a
    call works on, and for the values of a form's onchange.
    """

    _name = "rma.input.mixin"
    _description = "Returns: checked input"

    def browse(self, ids=()):
        """Records are given by their ids. Odoo's RPC entry point (``call_kw``) builds the records of every call on
        a model from the ids the client sent, through ``browse``, unchecked: ``["x"]`` would reach PostgreSQL. This
        is the one place every such call passes, whatever the method (write, read, unlink, the ``action_*``)."""
        if ids and isinstance(ids, (bool, float)):
            raise self._invalid_ids_error(ids)
        records = super().browse(ids)
        if any(id_.__class__ is not int and not isinstance(id_, NewId) for id_ in records._ids):
            raise self._invalid_ids_error(ids)
        return records

    @api.model_create_multi
    def create(self, vals_list):
        self._check_input_values(vals_list)
        return super().create(vals_list)

    def write(self, vals):
        self._check_input_values([vals])
        return super().write(vals)

    def onchange(self, values, field_names, fields_spec):
        self._check_onchange_numbers(values)
        return super().onchange(values, field_names, fields_spec)

    @api.model
    def _invalid_ids_error(self, ids):
        return ValidationError(
            self.env._(
                "%(model)s: records are given by their numeric ids, not %(ids)s.",
                model=self._description,
                ids=repr(ids)[:80],
            )
        )

    @api.model
    def _check_input_shape(self, vals_list):
        """A create's values: a list of {field: value} (a create override that reads them calls this first)."""
        if not isinstance(vals_list, list) or not all(isinstance(vals, dict) for vals in vals_list):
            raise ValidationError(
                self.env._("%(model)s: the values must be given as field names and values.", model=self._description)
            )

    @api.model
    def _check_input_values(self, vals_list, check_references=True):
        """Refuse values of the wrong kind, in the fields' terms. Those of the records created or updated through a
        one2many (an RMA's units) are checked too: Odoo converts them before their own create runs.
        ``check_references``: whether the records a many2one names must exist (one query per field)."""
        if is_server_write(self.env):
            return  # the server's own writes (after their guard), already of the right kind
        self._check_input_shape(vals_list)
        references = {}
        nested = {}
        for vals in vals_list:
            for name, value in vals.items():
                field = self._fields.get(name) if isinstance(name, str) else None
                if field is None:
                    raise ValidationError(
                        self.env._("%(model)s has no field %(field)r.", model=self._description, field=name)
                    )
                self._ensure_input_value(field, value)
                if field.type == "many2one" and isinstance(value, int) and value:
                    references.setdefault(field, set()).add(value)
                elif field.type in ("one2many", "many2many") and isinstance(value, (list, tuple)):
                    nested.setdefault(field.comodel_name, []).extend(
                        command[2] for command in value if isinstance(command, (list, tuple)) and command[0] in (0, 1)
                    )
        for comodel_name, nested_vals_list in nested.items():
            comodel = self.env[comodel_name]
            if nested_vals_list and isinstance(comodel, RmaInputMixin):
                # Existence is checked by their own create or write, once.
                comodel._check_input_values(nested_vals_list, check_references=False)
        for field, ids in references.items() if check_references else ():
            missing = set(ids) - set(self.env[field.comodel_name].browse(ids).exists().ids)  # exists(): no ACL
            if missing:
                raise ValidationError(
                    self.env._(
                        "%(model)s, %(field)s: no record %(ids)s.",
                        model=self._description,
                        field=field.get_description(self.env)["string"],
                        ids=", ".join(map(str, sorted(missing))),
                    )
                )

    @api.model
    def _check_onchange_numbers(self, values):
        """A form's values become new records, their numbers converted and rounded, before any onchange method runs:
        NaN, an infinity or text there would end in a traceback. (The other values follow the onchange protocol,
        not write's: a unit's ``rma_id`` is its RMA's values, for instance; they are checked when saved.)"""
        if not isinstance(values, dict):
            self._check_input_shape([values])
        for name, value in values.items():
            field = self._fields.get(name) if isinstance(name, str) else None
            if field is None:
                continue  # Odoo's onchange ignores it
            if field.type in ("integer", "float", "monetary"):
                self._ensure_input_value(field, value)
            elif field.type in ("one2many", "many2many") and isinstance(value, (list, tuple)):
                comodel = self.env[field.comodel_name]
                if isinstance(comodel, RmaInputMixin):
                    for command in value:
                        if isinstance(command, (list, tuple)) and len(command) > 2 and isinstance(command[2], dict):
                            comodel._check_onchange_numbers(command[2])

    @api.model
    def _ensure_input_value(self, field, value):
        """Refuse ``value`` for ``field`` with a ValidationError naming the field (see _input_value_problem)."""
        problem = self._input_value_problem(field, value)
        if problem:
            raise ValidationError(
                self.env._(
                    "%(model)s, %(field)s: %(problem)s",
                    model=self._description,
                    field=field.get_description(self.env)["string"],
                    problem=problem,
                )
            )

    @api.model
    def _input_value_problem(self, field, value):
        """Why ``value`` cannot be written in ``field``, in the user's terms, or None."""
        if value is None or value is False:
            return None
        kind = field.type
        if kind in ("char", "text", "html"):
            if not isinstance(value, str):
                return self.env._("text is expected.")
            if "\x00" in value:
                return self.env._("the text contains a NUL character.")
        elif kind == "selection":
            if not isinstance(value, str):
                return self.env._("one of the listed choices is expected.")
            choices = field.selection if isinstance(field.selection, (list, tuple)) else None
            if choices is not None and value not in {key for key, _label in choices}:
                return self.env._(
                    "%(value)r is not one of %(choices)s.",
                    value=value,
                    choices=", ".join(key for key, _label in choices),
                )
        elif kind == "boolean":
            if value not in (True, 1, 0):
                return self.env._("yes or no is expected.")
        elif kind == "integer":
            if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_INTEGER:
                return self.env._("a whole number is expected.")
        elif kind in ("float", "monetary"):
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not math.isfinite(value)
                or abs(value) > MAX_AMOUNT
            ):
                return self.env._("a number below %(max)s is expected.", max=f"{MAX_AMOUNT:,.0f}")
        elif kind == "many2one":
            if isinstance(value, models.BaseModel):
                return None if len(value) <= 1 else self.env._("a single record is expected.")
            if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_INTEGER:
                return self.env._("the id of a record is expected.")
        elif kind in ("one2many", "many2many"):
            return self._input_commands_problem(value)
        elif kind in ("date", "datetime"):
            if isinstance(value, (datetime.date, datetime.datetime)):
                return None
            if not isinstance(value, str):
                return self.env._("a date is expected.")
            try:
                (fields.Datetime.to_datetime if kind == "datetime" else fields.Date.to_date)(value)
            except ValueError:
                return self.env._("%(value)r is not a date.", value=value)
        elif kind == "binary" and not isinstance(value, (str, bytes)):
            return self.env._("a file is expected.")
        return None

    @api.model
    def _input_commands_problem(self, value):
        if isinstance(value, models.BaseModel):
            return None
        if not isinstance(value, (list, tuple)):
            return self.env._("a list of records is expected.")
        if not all(self._is_valid_command(command) for command in value):
            return self.env._("%(value)r is not a valid list of records.", value=value)
        return None

    @api.model
    def _is_valid_command(self, command):
        """An x2many command as Odoo takes them: (0, ref, values), (1, id, values), (2|3|4, id), (5,), (6, 0, ids),
        or a plain id."""

        def is_id(value):
            return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_INTEGER

        if is_id(command):
            return True
        if not isinstance(command, (list, tuple)) or not command or command[0] not in range(7):
            return False
        if isinstance(command[0], bool):
            return False
        code = command[0]
        if code == 0:  # its second item is a client-side reference ("virtual_1"), not an id
            return len(command) >= 3 and isinstance(command[2], dict)
        if code == 1:
            return len(command) >= 3 and is_id(command[1]) and isinstance(command[2], dict)
        if code in (2, 3, 4):
            return len(command) >= 2 and is_id(command[1])
        if code == 5:
            return True
        return len(command) >= 3 and isinstance(command[2], (list, tuple)) and all(map(is_id, command[2]))
