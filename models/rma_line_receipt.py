"""Fields and checks folded into rma_line.py / rma_line_checks.py at merge."""

from odoo import api, fields, models
from odoo.exceptions import UserError

from .rma_workflow_guard import server_write
from .stock_picking import RECEIVABLE_RMA_STATES


class RmaLine(models.Model):
    """Receipt of a returned unit: what its receipt recorded (stock.picking._rma_receive does the work), whether it
    may be received, and the units that arrive in place of an authorized one (suspected substitutions)."""

    _inherit = "rma.line"

    received_date = fields.Datetime(string="Received On", readonly=True, copy=False)
    received_by_id = fields.Many2one(
        "res.users", readonly=True, copy=False, help="The technician who scanned the unit in."
    )
    receipt_station = fields.Char(readonly=True, copy=False, help="The scanning station that received the unit.")
    quantity_received = fields.Float(digits="Product Unit", readonly=True, copy=False)
    receipt_value = fields.Monetary(
        currency_field="currency_id",
        compute="_compute_receipt_value",
        help="The value Odoo gave the unit when it was received (its original cost).",
    )
    is_substitution = fields.Boolean(
        string="Substitution Suspected",
        readonly=True,
        copy=False,
        help="A unit that arrived on this RMA but is not one of the units authorized: held for a manager,"
        " received without reference to any original delivery.",
    )

    @api.depends("receipt_move_ids.value")
    def _compute_receipt_value(self):
        for line in self:
            line.receipt_value = sum(line._receipt_moves().mapped("value"))

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_accept_substitution(self):
        """A manager accepts a unit that arrived in place of an authorized one; it may then be inspected."""
        self.rma_id._ensure_manager()
        if not all(self.mapped("is_substitution")):
            raise UserError(self.env._("Only units held as suspected substitutions can be accepted."))
        server_write(self, {"is_substitution": False})
        receipts = self._receipt_moves()
        receipts._rma_value_accepted_substitutions()
        receipts._rma_post_receipt_entries()
        note = self.env._("Substitution accepted by %(user)s", user=self.env.user.name)
        self.env["rma.custody.event"]._log(self, "status", note=note)
        for rma, lines in self.grouped("rma_id").items():
            rma.message_post(
                body=self.env._("%(note)s: %(units)s", note=note, units=", ".join(lines.mapped("serial_number")))
            )
        return True

    # ------------------------------------------------------------------
    # Receipt (the work: stock.picking._rma_receive)
    # ------------------------------------------------------------------
    def _receipt_moves(self):
        """The moves that brought the units in from the customer."""
        return self.receipt_move_ids.filtered(
            lambda move: move.location_id.usage == "customer" and move.state == "done"
        )

    def _ensure_can_be_received(self, quantity=None):
        for line in self:
            if line.rma_id.state not in RECEIVABLE_RMA_STATES:
                raise UserError(
                    self.env._(
                        "%(rma)s is %(state)s: only authorized RMAs can be received.",
                        rma=line.rma_id.display_name,
                        state=dict(line.rma_id._fields["state"]._description_selection(self.env))[line.rma_id.state],
                    )
                )
            if line.state != "authorized":
                raise UserError(self.env._("%(unit)s was already received.", unit=line.display_name))
            if not line.rma_id.warehouse_id.rma_quarantine_location_id:
                raise UserError(
                    self.env._(
                        "Warehouse %(warehouse)s has no Returns Quarantine location.",
                        warehouse=line.rma_id.warehouse_id.display_name,
                    )
                )
            remaining = line.quantity - line.quantity_received
            if line.tracking != "serial" and (quantity or remaining) > remaining:
                raise UserError(
                    self.env._(
                        "Only %(remaining)s %(uom)s of %(product)s are still expected on %(rma)s.",
                        remaining=remaining,
                        uom=line.product_uom_id.name,
                        product=line.product_id.display_name,
                        rma=line.rma_id.display_name,
                    )
                )
        self._ensure_serials_receivable()

    def _ensure_serials_receivable(self):
        """A serial already in the company's stock, or still open on another RMA, is not received (again): the
        unit in hand is not the one the customer shipped back, or it is expected on the other RMA."""
        serial_lines = self.filtered(lambda line: line.tracking == "serial")
        self._check_serials_receivable(
            [(line.lot_id, line.product_id, (line.serial_number or "").strip()) for line in serial_lines],
            serial_lines.company_id,
            serial_lines.rma_id,
        )

    @api.model
    def _check_serials_receivable(self, units, companies, rmas):
        """``units``: (lot, product, serial) arriving on ``rmas`` (see _ensure_serials_receivable)."""
        lots = self.env["stock.lot"].union(*(lot for lot, _product, _serial in units))
        if lots:
            in_stock = self.env["stock.quant"]._read_group(
                [
                    ("lot_id", "in", lots.ids),
                    ("location_id.usage", "in", ("internal", "transit")),
                    ("company_id", "in", companies.ids),
                    ("quantity", ">", 0),
                ],
                ["lot_id"],
            )
            if in_stock:
                raise UserError(
                    self.env._(
                        "%(serials)s is already in our stock: it cannot be received again. Nothing was recorded.",
                        serials=", ".join(lot.name for [lot] in in_stock),
                    )
                )
        if not units:
            return
        # Another RMA's units, whichever the user may read: a serial open on any of them is not received here.
        others = self.sudo().search(
            [
                ("rma_id", "not in", rmas.ids),
                ("state", "not in", ("closed", "rejected", "cancel")),
                ("product_id", "in", [product.id for _lot, product, _serial in units]),
                ("serial_number", "in", [serial for _lot, _product, serial in units]),
            ]
        )
        open_elsewhere = {(other.product_id, other.serial_number.strip()): other for other in others}
        for _lot, product, serial in units:
            other = open_elsewhere.get((product, serial))
            if other:
                raise UserError(
                    self.env._(
                        "%(serial)s is open on %(rma)s: receive it there. Nothing was recorded.",
                        serial=serial,
                        rma=other.rma_id.display_name,
                    )
                )
