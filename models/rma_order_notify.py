from odoo import models

# The customer's mail per step: its template and the company's switch (res.company.rma_notify_<step>).
NOTIFY_TEMPLATES = {
    "authorized": "rma_recovery.rma_mail_template_authorized",
    "received": "rma_recovery.rma_mail_template_received",
    "inspected": "rma_recovery.rma_mail_template_inspected",
    "remedy_done": "rma_recovery.rma_mail_template_remedy_done",
    "closed": "rma_recovery.rma_mail_template_closed",
    "rejected": "rma_recovery.rma_mail_template_rejected",
}


class RmaOrder(models.Model):
    """The customer's notifications: one mail per RMA and step, posted in the RMA's chatter. Each step's method calls
    ``_rma_notify`` with one line once its work is done:

    - ``authorized``, ``rejected``: rma.order.action_authorize / action_reject (models/rma_order.py);
    - ``received``: the RMA's receipt completed by a receipt (stock.picking._rma_receive, models/stock_picking.py): a
      parcel scanned unit by unit sends one mail, at its last unit;
    - ``inspected``: rma.inspection.action_done, once no received unit of the RMA waits for its inspection;
    - ``remedy_done``: the credit note posted (account.move._post) or the replacement / repaired unit delivered
      (stock.move._action_done), for the units whose remedy is then done; it may close the RMA;
    - ``closed``: a unit closes (rma.line._transition) or a remedy is done, and the RMA is then closed.

    ``_rma_notify`` decides in the step's transaction which RMAs get the mail and queues it (rma.order.notification,
    models/rma_order_notification.py); the job *Returns: send the customers' mails* (data/rma_notify_data.xml),
    woken by the step, renders and posts it: a manager authorizing hundreds of RMAs does not wait for their label
    PDFs. The templates render at that later time, so their unit lists filter on facts that stay true (the unit's
    authorization, receipt, inspection dates), not on a status the unit may have left meanwhile.
    """

    _inherit = "rma.order"

    def _rma_notify(self, step, units=None):
        """Queue the mail telling the customers of these RMAs that their return reached ``step`` (a key of
        NOTIFY_TEMPLATES), one mail per RMA whatever the number of ``units`` (rma.line) that reached it, unless the
        company switched it off or the customer has no e-mail address (checked again when the job sends it)."""
        # sudo: the step's user (a clerk validating a delivery, an accountant posting a credit note) need not read
        # the RMA nor its units; the customer's mail is the addon's, sent from the company's address (the templates).
        targets = self.sudo()._rma_notify_targets(step, units and units.sudo())
        rmas = targets._rma_notify_recipients(step)
        if rmas and self.env.ref(NOTIFY_TEMPLATES[step], raise_if_not_found=False):
            # sudo: the queue is the server's (no user has access to it); the step's user may not even read the RMA.
            self.env["rma.order.notification"].sudo()._queue(rmas, step)
        if step == "remedy_done":
            targets._rma_notify("closed")

    def _rma_notify_recipients(self, step):
        """The RMAs among ``self`` whose customer gets the ``step`` mail: the company sends it, the customer has an
        e-mail address."""
        return self.filtered(lambda rma: rma.company_id[f"rma_notify_{step}"] and rma.partner_id.email)

    def _rma_notify_targets(self, step, units):
        """The RMAs among ``self`` (or ``units``' RMAs) for which ``step`` is reached now."""
        if step == "remedy_done":
            return units.filtered(lambda line: line.remedy_state == "done").rma_id
        rmas = self | (units.rma_id if units else self.browse())
        if step == "closed":
            return rmas.filtered(lambda rma: rma.state == "done")
        if step == "inspected":
            # The RMA's received units are all inspected: a parcel inspected unit by unit sends one mail, at its last.
            return rmas.filtered(
                lambda rma: (
                    not rma.line_ids.filtered(
                        lambda line: line.state in ("received", "inspection") and not line.inspection_done_date
                    )
                )
            )
        return rmas
