import json

from odoo import api, fields, models
from odoo.tools import format_amount, format_date

from ..models.rma_workflow_guard import ensure_manager_of


class RmaAuditChecklist(models.TransientModel):
    """The workflow's audit checklist for a period and warehouse, computed live from the records."""

    _name = "rma.audit.checklist"
    _description = "Returns Audit Checklist"

    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    warehouse_id = fields.Many2one("stock.warehouse", check_company=True, help="Empty: every warehouse of the company.")
    date_from = fields.Date(required=True, default=lambda self: fields.Date.context_today(self).replace(day=1))
    date_to = fields.Date(required=True, default=fields.Date.context_today)
    currency_id = fields.Many2one(related="company_id.currency_id")
    item_ids = fields.One2many("rma.audit.checklist.item", "checklist_id", string="Checklist", readonly=True)

    @api.depends("date_from", "date_to", "warehouse_id")
    def _compute_display_name(self):
        for checklist in self:
            if not (checklist.date_from and checklist.date_to):
                checklist.display_name = self.env._("Audit Checklist")
                continue
            checklist.display_name = self.env._(
                "Audit Checklist — %(start)s to %(end)s, %(warehouse)s",
                start=format_date(self.env, checklist.date_from),
                end=format_date(self.env, checklist.date_to),
                warehouse=checklist.warehouse_id.name or self.env._("all warehouses"),
            )

    def action_compute(self):
        """(Re)compute the checklist items from the records of the period; the form shows them (its own record
        reloaded, so the breadcrumb keeps one entry)."""
        self.ensure_one()
        ensure_manager_of(self, self.env._("Only Returns Managers run the audit checklist."))
        self.item_ids.unlink()
        self.env["rma.audit.checklist.item"].create(
            [{"checklist_id": self.id, "sequence": index, **item} for index, item in enumerate(self._items())]
        )
        return True

    def action_print(self):
        if not self.item_ids:
            self.action_compute()
        return self.env.ref("rma_recovery.action_report_audit_checklist").report_action(self)

    # ------------------------------------------------------------------
    # The items
    # ------------------------------------------------------------------
    def _period_bounds(self):
        """The period's first instant and the instant after it."""
        return fields.Datetime.to_datetime(self.date_from), fields.Datetime.to_datetime(
            fields.Date.add(self.date_to, days=1)
        )

    def _period_domain(self, date_field):
        start, end = self._period_bounds()
        domain = [("company_id", "=", self.company_id.id), (date_field, ">=", start), (date_field, "<", end)]
        if self.warehouse_id:
            domain.append(
                ("rma_id.warehouse_id" if date_field != "request_date" else "warehouse_id", "=", self.warehouse_id.id)
            )
        return domain

    def _item(self, name, model, records, failing):
        return {
            "name": name,
            "res_model": model,
            "total": len(records),
            "passed": len(records) - len(failing),
            "failing_ids": json.dumps(failing.ids),
        }

    def _items(self):
        # sudo: the manager's checklist (ensure_manager_of in action_compute), computed as superuser over the company
        checklist = self.sudo()
        Line = checklist.env["rma.line"]
        rmas = checklist.env["rma.order"].search(self._period_domain("request_date"))
        incomplete = rmas.filtered(
            lambda rma: (
                not rma.reason_id
                or not rma.proof_attachment_ids
                or any(line.tracking == "serial" and not line.serial_number for line in rma.line_ids)
            )
        )
        received = Line.search(self._period_domain("received_date"))
        receipt_events = checklist.env["rma.custody.event"].search(
            [("line_id", "in", received.ids), ("event_type", "=", "receipt")]
        )
        scanned = receipt_events.filtered("scanned_code").line_id
        disposed = Line.search(self._period_domain("disposition_date"))
        not_inspected = disposed.filtered(
            lambda line: not line.inspection_done_date or line.inspection_done_date > line.disposition_date
        )
        # A certificate is due when the unit's disposition is carried out (restocked, refurbished, repaired, destroyed,
        # recycled or harvested): a data-bearing unit still in quarantine awaiting it has nothing due yet.
        data_bearing = disposed.filtered(lambda line: line.inspection_id.is_data_bearing)
        uncertified = data_bearing.filtered(
            lambda line: not line.sanitization_ids.filtered(lambda record: record.state == "validated")
        )
        # Return to stock posts nothing (its receipt entry was the treatment); every other code posts entries.
        posted = disposed.filtered(
            lambda line: line.disposition_valuation == "real_time" and line.disposition_treatment != "restock"
        )
        unreferenced = posted.filtered(
            lambda line: (
                not line.account_move_line_ids.filtered(
                    lambda aml: (
                        aml.rma_disposition_id
                        and line.rma_id.name in (aml.name or "")
                        and line.disposition_id.code in (aml.name or "")
                    )
                )
            )
        )
        # The chains of the units with an event in the period, and the seals that cover it: what the period touched,
        # whatever the history's size (the whole company is the custody check's job, rma.custody.check).
        Event = checklist.env["rma.custody.event"]
        [(handled,)] = Event._read_group(self._period_domain("event_date"), [], ["line_id:array_agg_distinct"])
        integrity = Event._check_integrity(self.company_id, line_ids=handled or [], period=self._period_bounds())
        broken = Line.browse(integrity.get("broken_line_id") or []).exists()
        value, ledger = checklist.company_id.stock_value(), checklist.company_id.stock_accounting_value()
        difference = sum(value.values()) - sum(ledger.values())
        currency = self.company_id.currency_id
        return [
            self._item(self.env._("RMAs submitted with serial, reason and proof"), "rma.order", rmas, incomplete),
            self._item(self.env._("Receipts scanned against an RMA"), "rma.line", received, received - scanned),
            self._item(self.env._("Units inspected before disposition"), "rma.line", disposed, not_inspected),
            self._item(
                self.env._("Data-bearing units with a validated certificate"), "rma.line", data_bearing, uncertified
            ),
            self._item(
                self.env._("Dispositions whose entries reference the RMA and code"), "rma.line", posted, unreferenced
            ),
            {
                **self._item(self.env._("Custody chain integrity"), "rma.line", broken, broken),
                "total": 1,
                "passed": 1 if integrity["ok"] else 0,
                "note": integrity.get("message")
                or self.env._(
                    "%(count)s events of %(units)s units verified",
                    count=integrity["event_count"],
                    units=integrity["chain_count"],
                ),
            },
            {
                "name": self.env._("Stock value agrees with the ledger"),
                "res_model": "rma.line",
                "total": 1,
                "passed": 1 if currency.is_zero(difference) else 0,
                "failing_ids": "[]",
                "amount": currency.round(difference),
                "note": self.env._("Difference: %(amount)s", amount=format_amount(self.env, difference, currency)),
            },
        ]


class RmaAuditChecklistItem(models.TransientModel):
    _name = "rma.audit.checklist.item"
    _description = "Returns Audit Checklist Item"
    _order = "sequence"

    checklist_id = fields.Many2one("rma.audit.checklist", required=True, ondelete="cascade")
    sequence = fields.Integer()
    name = fields.Char(string="Check", required=True)
    total = fields.Integer(string="Checked")
    passed = fields.Integer()
    share = fields.Float(string="Share (%)", compute="_compute_share")
    note = fields.Char()
    currency_id = fields.Many2one(related="checklist_id.currency_id")
    amount = fields.Monetary(
        string="Difference", currency_field="currency_id", help="For an amount check: what does not agree."
    )
    res_model = fields.Char()
    failing_ids = fields.Text(string="Failing Records (ids)")
    failing_count = fields.Integer(compute="_compute_share", string="Failing")

    @api.depends("total", "passed", "failing_ids")
    def _compute_share(self):
        for item in self:
            item.share = 100.0 * item.passed / item.total if item.total else 100.0
            item.failing_count = len(json.loads(item.failing_ids or "[]"))

    def action_open_failing(self):
        self.ensure_one()
        ids = json.loads(self.failing_ids or "[]")
        return self.env[self.res_model].browse(ids)._get_records_action(name=self.name)
