import json

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from .rma_custody_event import custody_hash

MANAGER_GROUP = "rma_recovery.group_rma_manager"


class RmaCustodySeal(models.Model):
    """A company-level seal over the per-unit custody chains: the heads (last position and hash) of every unit chain
    changed since the previous seal, hashed and chained to that seal.

    Per-unit chains keep scans of different units from waiting on one lock; a seal makes deleting a unit with its
    whole history, or rewriting one unit's chain consistently, detectable: the sealed head no longer exists.
    Append-only."""

    _name = "rma.custody.seal"
    _description = "Custody Seal"
    _order = "company_id, sequence desc"
    _rec_name = "sequence"

    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    sequence = fields.Integer(readonly=True, required=True, help="Position of the seal in its company's chain.")
    seal_date = fields.Datetime(readonly=True, required=True)
    user_id = fields.Many2one("res.users", readonly=True)
    head_count = fields.Integer(string="Units Sealed", readonly=True)
    heads = fields.Text(readonly=True, help="JSON: [[unit id, position, hash], ...] by unit id.")
    previous_hash = fields.Char(readonly=True)
    hash = fields.Char(readonly=True, index=True)

    _company_sequence_uniq = models.Constraint(
        "UNIQUE(company_id, sequence)", "A company's seals are numbered once each."
    )

    def write(self, vals):  # pylint: disable=method-required-super
        raise UserError(self.env._("Custody seals are append-only: they cannot be modified."))

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        raise UserError(self.env._("Custody seals are append-only: they cannot be deleted."))

    @api.model
    def _seal_values(self, company_id, sequence, seal_date, heads):
        """The hashed values of a seal, in this order (the standalone verifier uses the same)."""
        return [company_id, sequence, seal_date, heads]

    @api.model
    def _seal(self, companies):
        """Seal the unit chains of ``companies`` changed since their last seal; returns the new seals."""
        seals = self.browse()
        self.env.flush_all()
        for company in companies:
            # One sealer per company at a time; scans are not blocked (they lock their own unit rows).
            self.env.cr.execute(SQL("SELECT pg_advisory_xact_lock(%s, %s)", 8808, company.id))
            self.env.cr.execute(
                SQL(
                    "SELECT id, custody_sequence, custody_hash FROM rma_line WHERE company_id = %s"
                    " AND custody_sequence > COALESCE(custody_sealed_sequence, 0) ORDER BY id",
                    company.id,
                )
            )
            heads = [list(row) for row in self.env.cr.fetchall()]
            if not heads:
                continue
            last = self.search([("company_id", "=", company.id)], order="sequence desc", limit=1)
            sequence, now = last.sequence + 1, fields.Datetime.now()
            payload = json.dumps(heads, separators=(",", ":"))
            digest = custody_hash(
                last.hash, self._seal_values(company.id, sequence, fields.Datetime.to_string(now), payload)
            )
            seals |= self.sudo().create(
                {
                    "company_id": company.id,
                    "sequence": sequence,
                    "seal_date": now,
                    "user_id": self.env.uid,
                    "head_count": len(heads),
                    "heads": payload,
                    "previous_hash": last.hash or False,
                    "hash": digest,
                }
            )
            self.env.cr.execute(
                SQL(
                    "UPDATE rma_line SET custody_sealed_sequence = head.sequence"
                    " FROM unnest(%s::int[], %s::int[]) AS head(id, sequence) WHERE rma_line.id = head.id",
                    [head[0] for head in heads],
                    [head[1] for head in heads],
                )
            )
        self.env["rma.line"].invalidate_model(["custody_sealed_sequence"])
        return seals

    @api.model
    def _cron_seal(self):
        self._seal(self.env["res.company"].search([]))  # pylint: disable=no-search-all

    @api.model
    def action_seal_now(self):
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(self.env._("Only a Returns Manager seals the chains of custody."))
        seals = self._seal(self.env.company)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._("%(count)s unit chains sealed.", count=sum(seals.mapped("head_count")))
                if seals
                else self.env._("No chain changed since the last seal."),
            },
        }

    @api.model
    def _check_seals(self, company, event_hashes):
        """Recompute the seal chain of ``company`` and check every sealed head against ``event_hashes``
        ({(unit id, position): hash} of the events that exist). Returns None or (seal, unit id, message)."""
        self.env.cr.execute(
            SQL(
                "SELECT id, sequence, to_char(seal_date, 'YYYY-MM-DD HH24:MI:SS'), heads, previous_hash, hash"
                " FROM rma_custody_seal WHERE company_id = %s ORDER BY sequence",
                company.id,
            )
        )
        previous = None
        for seal_id, sequence, seal_date, heads, stored_previous, stored_hash in self.env.cr.fetchall():
            if (stored_previous or None) != previous or custody_hash(
                previous, self._seal_values(company.id, sequence, seal_date, heads)
            ) != stored_hash:
                return (
                    seal_id,
                    False,
                    self.env._("Seal %(seal)s was modified or removed from its chain.", seal=sequence),
                )
            for line_id, position, head_hash in json.loads(heads):
                if event_hashes.get((line_id, position)) != head_hash:
                    return (
                        seal_id,
                        line_id,
                        self.env._(
                            "Seal %(seal)s covers unit %(unit)s at position %(position)s, which no longer exists as"
                            " sealed: the unit's chain was deleted or rewritten.",
                            seal=sequence,
                            unit=line_id,
                            position=position,
                        ),
                    )
            previous = stored_hash
        return None
