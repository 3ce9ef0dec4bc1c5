"""The company seal: custody chains and the RMA journal, secured in one job.

Why the RMA Dispositions journal is hashed here and not at posting: Odoo numbers and hashes an entry of a journal
with *Secure Posted Entries with Hash* (``restrict_mode_hash_table``) from the entries its own transaction can see.
Under PostgreSQL's repeatable read, two requests posting in that journal at once (scanners, managers confirming
dispositions, accountants posting credit notes) see different last entries: the later one finds a "gap in the
sequence" and fails, which no retry cures while the other is still running. Queueing them took a lock that rolled
the caller's transaction back mid-request. Instead the journal is an ordinary one: Odoo's sequence mixin numbers
concurrent postings through the unique index (the later one waits, then takes the next free number, so there is
no gap), and the seal job hashes the posted entries afterwards with Odoo's own Secure Entries mechanism
(``_hash_moves(force_hash=True)``, as the Secure Entries wizard does), on the daily cron and on demand (*Seal Now*,
Returns Managers). Odoo's integrity report verifies them as any secured entry; entries hashed at posting before
(19.0.1.8.0 turned the flag off) stay hashed and the chain continues from them. Rejected: posting the entry as
draft and a follow-up posting job (an entry not posted for a while, and the same hash chain contention in the
job), and keeping the lock (requests queue on one company-wide lock: no scaling with workers).

What Odoo's journal hash does not cover, the seal does: it records the journal's last hashed entry of each sequence
chain (an end anchor: deleting the last entries is detected) and, for every journal item of the entries hashed
since the previous seal, its unit link, account and balance (Odoo hashes an item's debit, credit, account, partner
and label, not ``rma_line_id`` nor ``balance``). The integrity check names what changed.
"""

import json

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, float_repr

from .rma_custody_event import custody_hash
from .rma_workflow_guard import MANAGER_GROUP


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
    journal_anchor = fields.Text(
        readonly=True,
        help="JSON: the RMA journal and its last hashed entry of each sequence chain (prefix, number, id, name, hash).",
    )
    journal_item_count = fields.Integer(string="Journal Items Sealed", readonly=True)
    journal_items = fields.Text(
        readonly=True,
        help="JSON: [[item id, entry id, unit id, account id, balance], ...] of the RMA journal entries hashed since"
        " the previous seal, by item id.",
    )
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
    def _seal_values(self, company_id, sequence, seal_date, heads, journal_anchor=None, journal_items=None):
        """The hashed values of a seal, in this order (the standalone verifier uses the same). Seals made before the
        journal was sealed (no anchor) hash the first four."""
        values = [company_id, sequence, seal_date, heads]
        if journal_anchor:
            values += [journal_anchor, journal_items]
        return values

    @api.model
    def _seal(self, companies):
        """Secure the RMA journal of ``companies`` and seal it with their unit chains changed since their last seal;
        returns the new seals. Runs as superuser (the cron, or action_seal_now after its check): it writes the
        append-only seals and the entries' hashes, which nobody may write."""
        seals = self.browse()
        self.env.flush_all()
        for company in companies:
            # One sealer per company at a time; scans are not blocked (they lock their own unit rows). Two sealers
            # that overlap anyway write the same rows (the entries' hash, the units' sealed position) before the new
            # seal: the later fails with a serialization error, which Odoo retries.
            self.env.cr.execute(SQL("SELECT pg_advisory_xact_lock(%s, %s)", 8808, company.id))
            last = self.search([("company_id", "=", company.id)], order="sequence desc", limit=1)
            previous_anchor = self.search(
                [("company_id", "=", company.id), ("journal_anchor", "!=", False)], order="sequence desc", limit=1
            ).journal_anchor
            journal_anchor, items = self._seal_journal(company, previous_anchor)
            journal_items = journal_anchor and json.dumps(items, separators=(",", ":"))
            self.env.cr.execute(
                SQL(
                    "SELECT id, custody_sequence, custody_hash FROM rma_line WHERE company_id = %s"
                    " AND custody_sequence > COALESCE(custody_sealed_sequence, 0) ORDER BY id",
                    company.id,
                )
            )
            heads = [list(row) for row in self.env.cr.fetchall()]
            if not heads and not items:
                continue
            self.env.cr.execute(
                SQL(
                    "UPDATE rma_line SET custody_sealed_sequence = head.sequence"
                    " FROM unnest(%s::int[], %s::int[]) AS head(id, sequence) WHERE rma_line.id = head.id",
                    [head[0] for head in heads],
                    [head[1] for head in heads],
                )
            )
            sequence, now = last.sequence + 1, fields.Datetime.now()
            payload = json.dumps(heads, separators=(",", ":"))
            digest = custody_hash(
                last.hash,
                self._seal_values(
                    company.id, sequence, fields.Datetime.to_string(now), payload, journal_anchor, journal_items
                ),
            )
            seals |= self.create(
                {
                    "company_id": company.id,
                    "sequence": sequence,
                    "seal_date": now,
                    "user_id": self.env.uid,
                    "head_count": len(heads),
                    "heads": payload,
                    "journal_anchor": journal_anchor,
                    "journal_items": journal_items,
                    "journal_item_count": len(items),
                    "previous_hash": last.hash or False,
                    "hash": digest,
                }
            )
        self.env["rma.line"].invalidate_model(["custody_sealed_sequence"])
        return seals

    @api.model
    def _seal_journal(self, company, previous_anchor):
        """Hash the posted entries of the company's RMA journal (Odoo's Secure Entries), then return its end anchor
        (JSON text) and the items of the entries hashed since ``previous_anchor``; (False, []) without any.

        Each sequence chain is hashed up to its first entry reset to draft, as the Secure Entries wizard stops
        before a draft: hashing past it would leave it unhashable once posted again."""
        journal = self.env["account.journal"].search([("code", "=", "RMAD"), ("company_id", "=", company.id)], limit=1)
        if not journal:
            return False, []
        Move = self.env["account.move"]
        first_draft = dict(
            Move._read_group(
                [("journal_id", "=", journal.id), ("state", "=", "draft"), ("sequence_number", ">", 0)],
                ["sequence_prefix"],
                ["sequence_number:min"],
            )
        )
        to_hash = Move.search(
            [("journal_id", "=", journal.id), ("state", "=", "posted"), ("inalterable_hash", "=", False)]
        ).filtered(lambda move: move.sequence_number < first_draft.get(move.sequence_prefix, move.sequence_number + 1))
        if to_hash:
            to_hash._hash_moves(force_hash=True, raise_if_gap=False, raise_if_no_document=False)
            self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "SELECT DISTINCT ON (sequence_prefix) sequence_prefix, sequence_number, id, name, inalterable_hash"
                " FROM account_move WHERE journal_id = %s AND inalterable_hash IS NOT NULL"
                " ORDER BY sequence_prefix, sequence_number DESC",
                journal.id,
            )
        )
        chains = [list(row) for row in self.env.cr.fetchall()]
        if not chains:
            return False, []
        previous = json.loads(previous_anchor)["chains"] if previous_anchor else []
        digits = company.currency_id.decimal_places  # read before the query below: a read would run its own
        after = SQL(" OR ").join(
            [
                SQL("move.sequence_prefix <> ALL(%s)", [chain[0] for chain in previous]),
                *(SQL("(move.sequence_prefix = %s AND move.sequence_number > %s)", *chain[:2]) for chain in previous),
            ]
        )
        self.env.cr.execute(
            SQL(
                "SELECT item.id, item.move_id, item.rma_line_id, item.account_id, item.balance"
                " FROM account_move_line item JOIN account_move move ON move.id = item.move_id"
                " WHERE move.journal_id = %s AND move.inalterable_hash IS NOT NULL AND (%s) ORDER BY item.id",
                journal.id,
                after,
            )
        )
        items = [
            [item_id, move_id, unit_id, account_id, float_repr(balance, digits)]
            for item_id, move_id, unit_id, account_id, balance in self.env.cr.fetchall()
        ]
        anchor = json.dumps({"journal_id": journal.id, "chains": chains}, separators=(",", ":"), sort_keys=True)
        return anchor, items

    @api.model
    def _cron_seal(self):
        self._seal(self.env["res.company"].search([]))  # pylint: disable=no-search-all

    @api.model
    def action_seal_now(self):
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(self.env._("Only a Returns Manager seals the chains of custody."))
        # sudo: sealing writes the append-only seals and the entries' hashes, which nobody may write (see _seal)
        seals = self.sudo()._seal(self.env.company)
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
    def _check_seals(self, company, event_hashes=None, line_ids=None, period=None):
        """Recompute the seal chain of ``company``, check every sealed head against ``event_hashes`` ({(unit id,
        position): hash} of the events that exist; None: read those the seals cover) and every seal's RMA journal
        anchor and items against the journal. Returns None or (seal id, unit id, message).

        ``period`` (start, end): only the seals that cover it, from the first made in it to the first made after it,
        chained from the seal before them (a period's check); ``line_ids``: only those units' heads and journal items
        are checked (the other units' events are not in ``event_hashes``)."""
        self.env.cr.execute(
            SQL(
                "SELECT id, sequence, to_char(seal_date, 'YYYY-MM-DD HH24:MI:SS'), heads, journal_anchor,"
                " journal_items, previous_hash, hash FROM rma_custody_seal WHERE company_id = %s AND %s"
                " ORDER BY sequence",
                company.id,
                SQL(
                    "sequence >= COALESCE((SELECT MAX(sequence) FROM rma_custody_seal WHERE company_id = %(company)s"
                    " AND seal_date < %(start)s), 1) AND sequence <= COALESCE((SELECT MIN(sequence) FROM"
                    " rma_custody_seal WHERE company_id = %(company)s AND seal_date >= %(end)s), 2147483647)",
                    company=company.id,
                    start=period[0],
                    end=period[1],
                )
                if period
                else SQL("TRUE"),
            )
        )
        rows = self.env.cr.fetchall()
        if period and rows and rows[0][1] > 1:
            # The seal before the period anchors the chain: its hash is the first seal's previous one.
            chain_start, rows = rows[0][7], rows[1:]
        else:
            chain_start = None
        if event_hashes is None:
            event_hashes = self._sealed_event_hashes(company, rows)
        journal = self._sealed_journal_state(company, rows, line_ids)
        previous = chain_start
        for seal_id, sequence, seal_date, heads, anchor, items, stored_previous, stored_hash in rows:
            if (stored_previous or None) != previous or custody_hash(
                previous, self._seal_values(company.id, sequence, seal_date, heads, anchor, items)
            ) != stored_hash:
                return (
                    seal_id,
                    False,
                    self.env._("Seal %(seal)s was modified or removed from its chain.", seal=sequence),
                )
            for line_id, position, head_hash in json.loads(heads):
                if line_ids is not None and line_id not in line_ids:
                    continue
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
            problem = anchor and self._check_sealed_journal(sequence, anchor, items, journal, line_ids)
            if problem:
                return (seal_id, *problem)
            previous = stored_hash
        return None

    @api.model
    def _sealed_event_hashes(self, company, rows):
        """{(unit id, position): hash} of the existing events among the heads ``rows`` (the seals) recorded."""
        pairs = {(line_id, position) for row in rows for line_id, position, _hash in json.loads(row[3])}
        self.env.cr.execute(
            SQL(
                "SELECT line_id, sequence, hash FROM rma_custody_event WHERE company_id = %s"
                " AND (line_id, sequence) IN (SELECT * FROM unnest(%s::int[], %s::int[]))",
                company.id,
                [pair[0] for pair in pairs],
                [pair[1] for pair in pairs],
            )
        )
        return {(line_id, sequence): event_hash for line_id, sequence, event_hash in self.env.cr.fetchall()}

    @api.model
    def _sealed_journal_state(self, company, rows, line_ids=None):
        """What the journal holds now of what ``rows`` (the seals) recorded: ({entry id: (name, hash)} of the
        anchored entries, {item id: (entry id, entry name, unit id, account id, balance)} of the sealed items)."""
        entry_ids, item_ids = set(), set()
        for *_values, anchor, items, _previous, _hash in rows:
            if anchor:
                entry_ids.update(chain[2] for chain in json.loads(anchor)["chains"])
                item_ids.update(item[0] for item in json.loads(items) if line_ids is None or item[2] in line_ids)
        self.env.cr.execute(
            SQL("SELECT id, name, inalterable_hash FROM account_move WHERE id = ANY(%s)", list(entry_ids))
        )
        entries = {entry_id: (name, entry_hash) for entry_id, name, entry_hash in self.env.cr.fetchall()}
        digits = company.currency_id.decimal_places  # read before the query below: a read would run its own
        self.env.cr.execute(
            SQL(
                "SELECT item.id, item.move_id, move.name, item.rma_line_id, item.account_id, item.balance"
                " FROM account_move_line item JOIN account_move move ON move.id = item.move_id"
                " WHERE item.id = ANY(%s)",
                list(item_ids),
            )
        )
        current = {
            item_id: (move_id, name, unit_id, account_id, float_repr(balance, digits))
            for item_id, move_id, name, unit_id, account_id, balance in self.env.cr.fetchall()
        }
        return entries, current

    @api.model
    def _check_sealed_journal(self, sequence, anchor, items, journal, line_ids=None):
        """None, or (unit id, message) naming the first difference between seal ``sequence``'s record of the RMA
        journal (its end anchor, its items) and ``journal`` (see _sealed_journal_state)."""
        entries, current = journal
        for prefix, _number, entry_id, name, entry_hash in json.loads(anchor)["chains"]:
            if entries.get(entry_id, (None, None))[1] != entry_hash:
                return (
                    False,
                    self.env._(
                        "Seal %(seal)s anchors the RMA journal's chain %(prefix)s at entry %(entry)s (id %(id)s), which"
                        " no longer exists as sealed: the journal's last entries were deleted or rewritten.",
                        seal=sequence,
                        prefix=prefix,
                        entry=name,
                        id=entry_id,
                    ),
                )
        for item_id, entry_id, unit_id, account_id, balance in json.loads(items):
            if line_ids is not None and unit_id not in line_ids:
                continue  # another unit's item: not this check's
            if item_id not in current:
                return (
                    unit_id,
                    self.env._(
                        "Journal item %(item)s of entry %(entry)s, sealed by seal %(seal)s, was deleted.",
                        item=item_id,
                        entry=entry_id,
                        seal=sequence,
                    ),
                )
            _entry_id, entry_name, now_unit_id, now_account_id, now_balance = current[item_id]
            if now_unit_id != unit_id:
                return (
                    unit_id,
                    self.env._(
                        "Journal item %(item)s of %(entry)s was sealed by seal %(seal)s for unit %(sealed)s and is now"
                        " linked to unit %(unit)s: it was re-linked to another unit.",
                        item=item_id,
                        entry=entry_name,
                        seal=sequence,
                        sealed=unit_id or "-",
                        unit=now_unit_id or "-",
                    ),
                )
            if now_balance != balance:
                return (
                    unit_id,
                    self.env._(
                        "Journal item %(item)s of %(entry)s had a balance of %(sealed)s at seal %(seal)s and now has"
                        " %(balance)s: its balance was changed.",
                        item=item_id,
                        entry=entry_name,
                        seal=sequence,
                        sealed=balance,
                        balance=now_balance,
                    ),
                )
            if now_account_id != account_id:
                return (
                    unit_id,
                    self.env._(
                        "Journal item %(item)s of %(entry)s was sealed by seal %(seal)s on account %(sealed)s and is"
                        " now on account %(account)s.",
                        item=item_id,
                        entry=entry_name,
                        seal=sequence,
                        sealed=account_id,
                        account=now_account_id,
                    ),
                )
        return None
