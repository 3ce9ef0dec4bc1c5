from odoo import models

# What a portal user (the customer) may read of a unit, over any client: the unit as declared and the dates of its
# stages. Check results, values, notes and custody details stay with the staff (see _has_field_access).
PORTAL_LINE_FIELDS = frozenset(
    {
        "id",
        "display_name",
        "rma_id",
        "sequence",
        "company_id",
        "partner_id",
        "product_id",
        "product_uom_id",
        "serial_number",
        "quantity",
        "state",
        "authorized_date",
        "received_date",
        "inspection_done_date",
        "closed_date",
        "remedy_requested",
        "remedy",
        "remedy_state",
    }
)


class RmaLine(models.Model):
    """The unit as its customer sees it in the portal: what they may read, and the milestones of its status."""

    _inherit = "rma.line"

    def _has_field_access(self, field, operation):
        # Portal and public users read the unit as declared and its stages, nothing the staff recorded about it.
        if self.env.user.share and not self.env.su and field.name not in PORTAL_LINE_FIELDS:
            return False
        return super()._has_field_access(field, operation)

    def _portal_milestones(self):
        """{unit: [(label, date or False, reached)]}: requested, authorized, received, inspected, remedy done, closed,
        from the unit's own dates (a rejected or cancelled unit stops at its request). Read as superuser by the
        controller after its access check: the remedy's document (credit note, delivery) only gives its date."""
        remedy_dates = self._portal_remedy_dates()
        milestones = {}
        for line in self:
            stopped = line.state in ("rejected", "cancel")
            steps = [(self.env._("Requested"), line.rma_id.request_date)]
            if not stopped:
                steps += [
                    (self.env._("Authorized"), line.authorized_date),
                    (self.env._("Received"), line.received_date),
                    (self.env._("Inspected"), line.inspection_done_date),
                ]
                if line.remedy != "none":
                    steps.append((self.env._("Remedy done"), remedy_dates.get(line)))
                steps.append((self.env._("Closed"), line.closed_date))
            milestones[line] = [(label, date or False, bool(date)) for label, date in steps]
        return milestones

    def _portal_statuses(self):
        """{unit: its status in the customer's words}: what happens to the unit after its inspection (disposition,
        refurbishment, restock) is the staff's business; the customer sees it inspected, then its remedy done."""
        labels = {
            "draft": self.env._("Requested"),
            "authorized": self.env._("Authorized"),
            "received": self.env._("Received"),
            "inspection": self.env._("In Inspection"),
            "inspected": self.env._("Inspected"),
            "remedy_done": self.env._("Remedy Done"),
            "closed": self.env._("Closed"),
            "rejected": self.env._("Rejected"),
            "cancel": self.env._("Cancelled"),
        }
        statuses = {}
        for line in self:
            status = line.state
            if status in ("disposition", "in_progress", "ready"):
                status = "remedy_done" if line.remedy_state == "done" else "inspected"
            statuses[line] = labels[status]
        return statuses

    def _portal_remedy_dates(self):
        """{unit: when its remedy was done}: the credit note's accounting date, or the delivery's date."""
        dates = {}
        for line in self.filtered(lambda line: line.remedy_state == "done"):
            if line.remedy == "refund":
                dates[line] = line.credit_note_line_id.move_id.date
            else:
                dates[line] = line.remedy_move_id.date
        return dates
