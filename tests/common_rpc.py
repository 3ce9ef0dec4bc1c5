import json

from odoo.tests import HttpCase

from .common_disposition import RmaDispositionCommon

# Every context key the addon reads (and Odoo's own it used to trust), forged as a client would send them.
FORGED_CONTEXT = {
    "rma_workflow": True,
    "rma_done_now": True,
    "rma_valued_qty": [[1, 99.0]],
    "rma_receipt_move_ids": [1],
    "rma_analytic_cache": {"1": {"1": 100}},
    "force_period_date": "2020-01-01",
    "skip_analytic_sync": True,
}
ACCESS_ERROR = "odoo.exceptions.AccessError"
USER_ERROR = "odoo.exceptions.UserError"


class RmaRpcMixin:
    """For HttpCase tests: call a method over JSON-RPC as a given user, as any client can, with every context key the
    addon reads set to a forged value."""

    _rpc_login = None

    def _rpc(self, user, model, method, args, kwargs=None, context=None):
        """``model.method(*args, **kwargs)`` over JSON-RPC (/web/dataset/call_kw) as ``user``: (HTTP status, JSON
        answer). The user logs in only when the test's last login was someone else's."""
        if self._rpc_login != (user, self.opener):
            self.authenticate(user.login, user.login)
            self._rpc_login = (user, self.opener)
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": 1,
            "params": {
                "model": model,
                "method": method,
                "args": args,
                "kwargs": {**(kwargs or {}), "context": context or {}},
            },
        }
        # json.dumps writes NaN and Infinity as a lenient client (and Odoo's parser) does; requests refuses them.
        response = self.url_open(
            "/web/dataset/call_kw", data=json.dumps(payload), headers={"Content-Type": "application/json"}
        )
        self.env.invalidate_all()
        return response.status_code, response.json()

    def _call(self, user, model, method, *args, **kwargs):
        """``model.method(*args, **kwargs)`` over JSON-RPC as ``user``, with FORGED_CONTEXT: the JSON answer."""
        status, answer = self._rpc(user, model, method, list(args), kwargs, dict(FORGED_CONTEXT))
        self.assertEqual(status, 200)
        return answer

    def assertRefused(self, answer, error=ACCESS_ERROR):
        self.assertIn("error", answer, f"the server accepted the call: {answer.get('result')!r}")
        self.assertEqual(answer["error"]["data"]["name"], error, answer["error"]["data"].get("message"))


class RmaRpcCommon(RmaRpcMixin, RmaDispositionCommon, HttpCase):
    """What the screens forbid, the server refuses: each call goes over JSON-RPC (/web/dataset/call_kw) as the user
    who must be refused, with every context key the addon reads set to a forged value."""
