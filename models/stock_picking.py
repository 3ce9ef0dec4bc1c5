from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError


class StockPicking(models.Model):
    _name = "stock.picking"
    _inherit = ["stock.picking", "rma.server.fields.mixin"]

    rma_id = fields.Many2one(
        "rma.order", string="RMA", readonly=True, copy=False, index="btree_not_null", check_company=True
    )

    rma_remedy_id = fields.Many2one(
        "rma.order",
        string="Remedy of RMA",
        readonly=True,
        copy=False,
        index="btree_not_null",
        check_company=True,
        help="A replacement, or a repaired unit shipped back, for this RMA.",
    )

    def button_validate(self):
        # An RMA's receipt is validated unit by unit as the units are scanned in: each scan records the unit's
        # custody, its value and its receipt entry. Validate opens the RMA's Receive screen.
        rma_receipts = self.filtered("rma_id")
        if rma_receipts:
            if len(self) > 1:
                raise UserError(
                    self.env._(
                        "%(receipts)s are RMA receipts: receive their units on the Receive screen, one RMA at a time.",
                        receipts=", ".join(rma_receipts.mapped("name")),
                    )
                )
            return self.rma_id.action_open_receive_screen()
        return super().button_validate()

    def _action_done(self):
        # Whatever the caller, an RMA's receipt is never validated as a whole: see button_validate.
        if self.filtered("rma_id"):
            raise UserError(
                self.env._("Receive the units of an RMA by scanning them on the Receive screen (Inventory > Returns).")
            )
        return super()._action_done()

    def _create_backorder_picking(self):
        # The backorder of a remedy delivery (the units not shipped yet) is still a remedy delivery of its RMA.
        backorder = super()._create_backorder_picking()
        if self.rma_remedy_id:
            backorder.sudo().rma_remedy_id = self.rma_remedy_id
        return backorder

    def _rma_date_completed_receipts(self):
        """The RMA receipts among ``self`` that their last scan has just completed take its time as their Effective
        Date, as Odoo's _action_done dates a validated transfer, and are no longer scheduled after it. Each move keeps
        the time of its own scan (Odoo's write of date_done would re-date them all)."""
        completed = self.filtered(lambda picking: picking.rma_id and picking.state == "done" and not picking.date_done)
        if not completed:
            return
        scan_dates = {move: move.date for move in completed.move_ids}
        by_date_done = completed.grouped(
            lambda picking: max(move.date for move in picking.move_ids if move.state == "done")
        )
        for date_done, pickings in by_date_done.items():
            pickings.write({"date_done": date_done})
            pickings.filtered_domain([("scheduled_date", ">", date_done)]).scheduled_date = date_done
        moves = self.env["stock.move"].concat(*(move for move, date in scan_dates.items() if move.date != date))
        for date, redated in moves.grouped(scan_dates.get).items():
            redated.date = date

    @api.model
    @api.model
    def _create_rma_receipts(self, rmas):
        """A receipt per RMA. The RMA's chatter tells its story: the receipts log no creation message of their own
        (a thousand RMAs authorized at once would write a thousand messages). As superuser: the receipt links to its
        RMA, a field only the server writes, and whoever authorizes need not create transfers."""
        return (
            self.sudo()
            .with_context(mail_create_nolog=True, mail_create_nosubscribe=True)
            .create([self._prepare_rma_receipt_vals(rma) for rma in rmas])
        )

    def _prepare_rma_receipt_vals(self, rma):
        """The receipt of ``rma``: from the customer into its warehouse's returns quarantine."""
        picking_type = rma.warehouse_id.rma_receipt_type_id
        return {
            "picking_type_id": picking_type.id,
            "partner_id": rma.partner_id.id,
            "location_id": self.env.ref("stock.stock_location_customers").id,
            "location_dest_id": rma.warehouse_id.rma_quarantine_location_id.id,
            "origin": rma.name,
            "company_id": rma.company_id.id,
            "rma_id": rma.id,
            "scheduled_date": fields.Datetime.now() + relativedelta(days=rma.company_id.rma_shipping_days),
        }
