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

    def _call(self, user, model, method, *args, **kwargs):
        """``model.method(*args, **kwargs)`` over JSON-RPC as ``user``, with FORGED_CONTEXT: the JSON answer."""
        self.authenticate(user.login, user.login)
        kwargs["context"] = dict(FORGED_CONTEXT)
        response = self.url_open(
            "/web/dataset/call_kw",
            json={
                "jsonrpc": "2.0",
                "method": "call",
                "id": 1,
                "params": {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
            },
        )
        self.assertEqual(response.status_code, 200)
        self.env.invalidate_all()
        return response.json()

    def assertRefused(self, answer, error=ACCESS_ERROR):
        self.assertIn("error", answer, f"the server accepted the call: {answer.get('result')!r}")
        self.assertEqual(answer["error"]["data"]["name"], error, answer["error"]["data"].get("message"))
