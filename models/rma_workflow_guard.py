"""The Returns groups, what a client can never write, and how the server's own methods do.

Any client can call any public method with any arguments and any context over JSON-RPC, so neither a context key
nor a readonly attribute in a view protects a field. Fields that record a decision, a fact or a check result (state,
number, override, receipt, values, links to Odoo's documents) are *server-owned*: the fields this addon declares
``readonly``. A plain ``create``/``write`` refuses them, whoever the user. The RMA's actions run their
``_ensure_can_be_<step>()`` guard, then write those fields with ``server_write``/``server_create``: *as the real
user*, so Odoo's ACLs and record rules still decide whether the user may write the record at all; only the refusal
of server-owned fields is lifted, by a context value no client can build (``rma_server_context.ServerOnly``).
``sudo()`` is left for the records a user legitimately may not write (journal entries, valuation layers, lots,
append-only custody records), each with its reason on the line.
"""

import weakref

from odoo.exceptions import AccessError
from odoo.models import LOG_ACCESS_COLUMNS

from .rma_server_context import server_context, server_value

MODULE = "rma_recovery"
# The Returns groups, each implying the one before (security/rma_security.xml).
USER_GROUP = f"{MODULE}.group_rma_user"
INSPECTOR_GROUP = f"{MODULE}.group_rma_inspector"
MANAGER_GROUP = f"{MODULE}.group_rma_manager"
# The dedicated user of an external system: the JSON-2 API of models/rma_order_api.py, nothing else.
INTEGRATION_GROUP = f"{MODULE}.group_rma_integration"
_SERVER_WRITE_KEY = "rma_server_write"
_SERVER_FIELDS_CACHE = weakref.WeakKeyDictionary()  # model class -> field names


def server_fields(model):
    """The fields of ``model`` that only the server writes: those this addon declares readonly (plain, stored
    computed, related or one2many: each would otherwise write through). Declaring a fact's field readonly is all it
    takes to protect it."""
    key = type(model)
    if key not in _SERVER_FIELDS_CACHE:
        _SERVER_FIELDS_CACHE[key] = frozenset(
            name
            for name, field in model._fields.items()
            if name not in LOG_ACCESS_COLUMNS
            and name != "id"
            and field._module == MODULE
            and field.readonly
            # a non-stored compute without inverse has nothing to write; related and one2many fields write through
            and not (field.compute and not field.store and not field.inverse and not field.related)
        )
    return _SERVER_FIELDS_CACHE[key]


def field_labels(model, names):
    """The fields' labels, for a message: "Customer, Warehouse"."""
    return ", ".join(sorted({model._fields[name].get_description(model.env)["string"] for name in names}))


def is_server_write(env):
    """Whether ``env`` runs one of the server's own steps (superuser, or ``server_write``/``server_create`` after the
    step's guard): the refusals of clients' writes (server-owned fields, a draft's editor, a frozen record) let it
    through; ACLs and record rules still apply."""
    return env.su or bool(server_value(env, _SERVER_WRITE_KEY))


def server_owned(records):
    """``records``, allowed to write their server-owned fields, still as the current user: call only after the
    step's guard ran."""
    return records.with_context(**server_context(**{_SERVER_WRITE_KEY: True}))


def server_write(records, vals):
    """Write server-owned fields of ``records`` as the current user, after the step's guard ran."""
    return server_owned(records).write(vals)


def server_create(model, vals_list):
    """Create records holding server-owned fields as the current user, after the step's guard ran."""
    return server_owned(model).create(vals_list).with_env(model.env)


def ensure_workflow_fields(records, field_names):
    """Refuse a client's create/write that touches server-owned fields (see the module's docstring)."""
    if is_server_write(records.env):
        return
    touched = set(field_names) & server_fields(records)
    if touched:
        raise AccessError(
            records.env._(
                "%(fields)s of %(model)s are recorded by the server: they change only through the RMA's actions"
                " (authorize, receive, inspect, dispose...).",
                fields=field_labels(records, touched),
                model=records._description,
            )
        )


def ensure_manager_of(records, message):
    """A report computed as superuser (raw SQL, stock values: no record rule applies) is for a Returns Manager of
    each of the ``records``' companies: raise AccessError with ``message`` otherwise. Server code running as
    superuser (the scheduled reports) passes."""
    env = records.env
    if env.su:
        return
    if not env.user.has_group(MANAGER_GROUP):
        raise AccessError(message)
    foreign = records.company_id - env.user.company_ids
    if foreign:
        raise AccessError(env._("You cannot report on %(companies)s.", companies=", ".join(foreign.mapped("name"))))
