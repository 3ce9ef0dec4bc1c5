from odoo import api, fields, models
from odoo.exceptions import UserError


class RmaCogsReversal(models.Model):
    """Which journal item reversed a returned unit's cost of goods sold, and for what quantity (accounting contract,
    invariant 5).

    Written by the server when the document posts, never inferred later:

    - ``receipt``: the Cr COGS line of the unit's RMA receipt entry (or of the correction that the addon posts when
      another source starts or stops counting), in the RMA Dispositions journal;
    - ``credit``: a Cr COGS line Odoo posted on a credit note (from the sale order, by hand, or copied from the
      invoice by a *modify* reversal), allocated to the unit when it posted or when the unit's RMA was authorized;
    - ``covered``: a credit note line that left the unit's COGS to its receipt entry (Odoo posted no COGS line for
      that quantity); it reverses nothing itself (amount 0) but uses up the unit's quantity for other credit notes.

    A row counts while its journal item is posted and its entry is not reversed by a posted entry; when it stops
    counting (reset to draft, cancel, reversal, deletion), the addon posts the difference at once
    (rma.line._post_cogs_reversals).
    """

    _name = "rma.cogs.reversal"
    _description = "COGS Reversal of a Returned Unit"
    _order = "id"
    _check_company_auto = True

    line_id = fields.Many2one("rma.line", string="RMA Unit", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="line_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    rma_id = fields.Many2one(related="line_id.rma_id", string="RMA")
    kind = fields.Selection(
        [
            ("receipt", "RMA Receipt Entry"),
            ("credit", "Credit Note COGS"),
            ("covered", "Left to the Receipt Entry"),
        ],
        required=True,
    )
    move_line_id = fields.Many2one(
        "account.move.line",
        string="Journal Item",
        index="btree_not_null",
        ondelete="set null",
        help="The Cr COGS journal item (for a covered credit note: its product line). Emptied when Odoo deletes the"
        " item (a credit note reset to draft or cancelled deletes its COGS lines).",
    )
    move_id = fields.Many2one("account.move", string="Document", required=True, index=True, ondelete="cascade")
    quantity = fields.Float(digits="Product Unit", help="In the product's unit; negative for a correction.")
    amount = fields.Monetary(
        currency_field="currency_id", help="COGS reversed for that quantity; negative for a correction."
    )
    is_counting = fields.Boolean(
        string="Counts",
        compute="_compute_is_counting",
        store=True,
        index=True,
        help="The journal item is posted and its entry not reversed by a posted entry.",
    )

    @api.depends("move_line_id", "move_id.state", "move_id.reversal_move_ids.state")
    def _compute_is_counting(self):
        for row in self:
            row.is_counting = bool(
                row.move_line_id
                and row.move_id.state == "posted"
                and not any(reversal.state == "posted" for reversal in row.move_id.reversal_move_ids)
            )

    # Append-only: rows are created by the server (sudo, in the step that posts). Only Odoo's own bookkeeping changes
    # them afterwards: the stored is_counting recomputed, the journal item emptied by the database when Odoo deletes it,
    # the row deleted with a draft document deleted.
    def write(self, vals):
        if vals:
            raise UserError(self.env._("The COGS reversal records of returned units cannot be changed."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        raise UserError(self.env._("The COGS reversal records of returned units cannot be deleted."))
