"""What a client can never write, and how the server's own methods do.

Any client can call any public method with any arguments and any context over JSON-RPC, so neither a context key
nor a readonly attribute in a view protects a field. Fields that record a decision, a fact or a check result (state,
number, override, receipt, values, links to Odoo's documents) are *server-owned*: a plain ``create``/``write``
refuses them, whoever the user. The RMA's actions run their ``_ensure_can_be_<step>()`` guard as the real user, then
write those fields through ``_workflow()``, i.e. ``sudo()``, which only server code can reach: ``env.su`` cannot be
set by a client.
"""

import weakref

from odoo.exceptions import AccessError
from odoo.models import LOG_ACCESS_COLUMNS

MODULE = "rma_recovery"
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


def ensure_workflow_fields(records, field_names):
    """Refuse a client's create/write that touches server-owned fields (see the module's docstring)."""
    if records.env.su:
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
    if not env.user.has_group(f"{MODULE}.group_rma_manager"):
        raise AccessError(message)
    foreign = records.company_id - env.user.company_ids
    if foreign:
        raise AccessError(env._("You cannot report on %(companies)s.", companies=", ".join(foreign.mapped("name"))))
