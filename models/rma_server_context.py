"""Per-call caches that server code hands down through the context, in a form no client can send.

A JSON-RPC client can put any key in the context, but only JSON values: it can never build a ``ServerOnly``. A value
read with ``server_value`` therefore always comes from the server's own code, whatever the client sent under the
same key. Use it for performance caches (a batch's precomputed figures) and for the marker that lets the server's
own steps write server-owned fields as the real user (rma_workflow_guard.server_write): a right never rides on the
context, Odoo's ACLs and record rules still decide who writes.
"""


class ServerOnly:
    """A context value wrapped by server code."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def server_context(**values):
    """Context keys for ``with_context``, each value wrapped as ServerOnly."""
    return {key: ServerOnly(value) for key, value in values.items()}


def server_value(env, key, default=None):
    """The value the server put under ``key``; ``default`` when absent or sent by a client."""
    value = env.context.get(key)
    return value.value if isinstance(value, ServerOnly) else default
