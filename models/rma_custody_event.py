import hashlib
import json

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

# The hashed fields, in this order. Changing the list means a new version: old events keep theirs.
HASH_VERSION = 1
HASHED_FIELDS = (
    "sequence",
    "line_id",
    "rma_id",
    "company_id",
    "product_id",
    "lot_id",
    "serial",
    "event_type",
    "location_id",
    "location_dest_id",
    "user_id",
    "event_date",
    "station",
    "scanned_code",
    "note",
)


# One encoder for every event: json.dumps with options would build a new one per call.
_canonical_json = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def custody_hash(previous_hash, values):
    """sha256 over the previous hash and the canonical form of the hashed fields, with a version prefix.

    ``values``: the HASHED_FIELDS values in that order (ids, strings, the date as "YYYY-MM-DD HH:MM:SS",
    None for empty). The canonical form is their compact JSON array.
    """
    payload = _canonical_json(values)
    digest = hashlib.sha256(f"{previous_hash or ''}{payload}".encode()).hexdigest()
    return f"${HASH_VERSION}${digest}"


class RmaCustodyEvent(models.Model):
    """One event of a returned unit's chain of custody: append-only and hash-chained per unit.

    Each RMA unit (``rma.line``) has its own chain, so scans of different units never wait on each other;
    the unit keeps the head of its chain (last sequence and hash), so deleting a unit's whole history is
    detected too.
    """

    _name = "rma.custody.event"
    _description = "Custody Event"
    _order = "event_date desc, id desc"
    _rec_name = "event_type"
    _check_company_auto = True

    sequence = fields.Integer(readonly=True, required=True, help="Position of the event in its unit's chain.")
    line_id = fields.Many2one("rma.line", string="Unit", required=True, readonly=True, index=True, ondelete="restrict")
    rma_id = fields.Many2one("rma.order", string="RMA", required=True, readonly=True, index=True, ondelete="restrict")
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    product_id = fields.Many2one("product.product", readonly=True, required=True)
    lot_id = fields.Many2one("stock.lot", string="Serial Number", readonly=True, index="btree_not_null")
    serial = fields.Char(string="Serial / IMEI", readonly=True)
    event_type = fields.Selection(
        [
            ("scan", "Scan"),
            ("receipt", "Receipt"),
            ("status", "Status Change"),
            ("move", "Location Move"),
            ("inspection", "Inspection"),
            ("disposition", "Disposition"),
            ("wipe", "Data Wipe"),
            ("certificate", "Certificate"),
            ("shipment", "Shipment"),
        ],
        required=True,
        readonly=True,
    )
    location_id = fields.Many2one("stock.location", string="From", readonly=True)
    location_dest_id = fields.Many2one("stock.location", string="To", readonly=True)
    user_id = fields.Many2one("res.users", required=True, readonly=True)
    event_date = fields.Datetime(string="Server Time", required=True, readonly=True, index=True)  # period checks
    station = fields.Char(readonly=True, help="Scanning station or device.")
    scanned_code = fields.Char(readonly=True)
    note = fields.Text(readonly=True)
    read_ref = fields.Char(
        string="Read",
        readonly=True,
        index="btree_not_null",
        help="The bulk read (an RFID portal's read of a pallet, a pasted list: rma.scan.receive_bulk, custody_bulk)"
        " that recorded the event: every unit of the read carries it. Also in the event's note, which the hash covers.",
    )
    previous_hash = fields.Char(readonly=True)
    hash = fields.Char(readonly=True, required=True)

    _line_sequence_uniq = models.Constraint(
        "UNIQUE(line_id, sequence)",
        "A unit's custody chain cannot hold two events at the same position.",
    )

    # ------------------------------------------------------------------
    # CRUD: append-only
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        """Number and hash the events in their units' chains, locking only the units concerned.

        The server sets the position, user, time and hashes itself, whatever the caller passed.
        """
        line_ids = sorted({vals["line_id"] for vals in vals_list})
        # Row locks on the units, in id order: concurrent scans of other units are not blocked.
        self.env.cr.execute(
            SQL(
                "SELECT id, custody_sequence, custody_hash FROM rma_line WHERE id = ANY(%s) ORDER BY id FOR UPDATE",
                line_ids,
            )
        )
        heads = {line_id: (sequence or 0, last_hash) for line_id, sequence, last_hash in self.env.cr.fetchall()}
        lines = self.env["rma.line"].browse(line_ids)
        line_by_id = {line.id: line for line in lines}
        now = fields.Datetime.now()
        for vals in vals_list:
            line = line_by_id[vals["line_id"]]
            sequence, previous_hash = heads[line.id]
            for name in ("station", "scanned_code", "note", "serial", "location_id", "location_dest_id"):
                vals[name] = vals.get(name) or False  # stored as NULL, hashed as null
            vals.update(
                sequence=sequence + 1,
                user_id=self.env.uid,
                event_date=now,
                rma_id=line.rma_id.id,
                company_id=line.company_id.id,
                product_id=line.product_id.id,
                lot_id=vals.get("lot_id") or line.lot_id.id,
                serial=vals.get("serial") or line.serial_number or False,
                previous_hash=previous_hash or False,
            )
            vals["hash"] = custody_hash(previous_hash, self._hash_values(vals))
            heads[line.id] = (vals["sequence"], vals["hash"])
        events = super().create(vals_list)
        lines._set_custody_heads(heads)
        return events

    def write(self, vals):  # pylint: disable=method-required-super
        raise UserError(self.env._("Custody events are append-only: they cannot be modified."))

    @api.model
    def _log(self, units, event_type, location=None, destination=None, note=False, station=False, **values):
        """Record one event per unit: the one helper through which the addon writes the chain of custody.

        ``location`` is where the unit is (its current location by default), ``destination`` where it is handed to;
        each of ``location``, ``destination``, ``note`` and the other ``values`` (scanned_code, lot_id, serial,
        read_ref) is one value for every unit or {unit: value}.
        """
        if not units:
            return self

        def of(value, unit):
            return value.get(unit, False) if isinstance(value, dict) else value

        def id_of(value, unit):
            record = of(value, unit)
            return record.id if record else False

        # sudo: the log is append-only and numbered by the server (create): whoever acts, the server writes it.
        return self.sudo().create(
            [
                {
                    **{name: of(value, unit) for name, value in values.items()},
                    "line_id": unit.id,
                    "event_type": event_type,
                    "location_id": id_of(location, unit) if location is not None else unit.location_id.id,
                    "location_dest_id": id_of(destination, unit),
                    "station": station,
                    "note": of(note, unit),
                }
                for unit in units
            ]
        )

    @api.model
    def _log_status_changes(self, lines, note, station=False):
        """A status event per unit (rma.line._transition), where the unit is now."""
        return self._log(lines, "status", note=note, station=station)

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        raise UserError(self.env._("Custody events are append-only: they cannot be deleted."))

    # ------------------------------------------------------------------
    # Integrity
    # ------------------------------------------------------------------
    @api.model
    def _hash_values(self, values):
        """The hashed values in HASHED_FIELDS order, empty ones as None (as NULL reads back)."""
        result = [values.get(name) or None for name in HASHED_FIELDS]
        date_index = HASHED_FIELDS.index("event_date")
        result[date_index] = fields.Datetime.to_string(result[date_index])
        return result

    @api.model
    def _hashed_columns(self):
        """The HASHED_FIELDS columns, the date read as the text it was hashed from (also faster than datetimes)."""
        return SQL(", ").join(
            SQL("to_char(event_date, 'YYYY-MM-DD HH24:MI:SS')") if name == "event_date" else SQL.identifier(name)
            for name in HASHED_FIELDS
        )

    @api.model
    def _check_integrity(self, company, after_line_id=0, upto_line_id=None, seals=True, line_ids=None, period=None):
        """Recompute every custody chain of ``company`` from the database.

        Returns a dict: ``ok``, ``event_count``, ``chain_count`` and, when a chain is broken, ``broken_event_id``
        (the first event that does not match, or False when events are missing at the end of a chain),
        ``broken_line_id`` and ``message``. ``after_line_id``/``upto_line_id`` limit it to the chains of the units
        in that id range and ``seals=False`` leaves out the seals: a chunk of the background check (rma.custody.check),
        whose last step checks the seals. ``line_ids`` limits it to those units' chains, and the seals to those that
        cover ``period`` (start, end) and to those units' heads and journal items in them: a period's check (the
        audit checklist), which costs what the period holds, not the whole history.
        """
        self.env.flush_all()
        columns = self._hashed_columns()
        in_range = SQL("line_id > %s", after_line_id)
        units_in_range = SQL("id > %s", after_line_id)
        if line_ids is not None:
            in_range = SQL("line_id = ANY(%s)", list(line_ids))
            units_in_range = SQL("id = ANY(%s)", list(line_ids))
        if upto_line_id:
            in_range = SQL("%s AND line_id <= %s", in_range, upto_line_id)
            units_in_range = SQL("%s AND id <= %s", units_in_range, upto_line_id)
        self.env.cr.execute(
            SQL(
                "SELECT id, previous_hash, hash, %s FROM rma_custody_event WHERE company_id = %s AND %s"
                " ORDER BY line_id, sequence, id",
                columns,
                company.id,
                in_range,
            )
        )
        rows = self.env.cr.fetchall()
        self.env.cr.execute(
            SQL(
                "SELECT id, custody_sequence, custody_hash FROM rma_line WHERE company_id = %s AND %s"
                " AND (custody_sequence > 0 OR state NOT IN ('draft', 'authorized', 'rejected', 'cancel'))",
                company.id,
                units_in_range,
            )
        )
        heads = {line_id: (sequence or 0, head_hash) for line_id, sequence, head_hash in self.env.cr.fetchall()}
        result = {"ok": True, "event_count": len(rows), "chain_count": 0, "broken_event_id": False}

        def broken(event_id, line_id, message):
            result.update(ok=False, broken_event_id=event_id, broken_line_id=line_id, message=message)
            return result

        current_line, expected_sequence, previous_hash = None, 1, None
        seen_lines = set()
        event_hashes = {}
        for event_id, stored_previous, stored_hash, *values in rows:
            sequence, line_id = values[0], values[1]
            event_hashes[line_id, sequence] = stored_hash
            if line_id != current_line:
                if current_line is not None and not self._head_matches(
                    heads, current_line, expected_sequence, previous_hash
                ):
                    return broken(False, current_line, self._missing_tail_message(current_line, expected_sequence))
                current_line, expected_sequence, previous_hash = line_id, 1, None
                seen_lines.add(line_id)
                result["chain_count"] += 1
            if sequence != expected_sequence:
                return broken(
                    event_id,
                    line_id,
                    self.env._(
                        "Event %(event)s is at position %(found)s of its unit's chain where %(expected)s was expected:"
                        " events were deleted or reordered.",
                        event=event_id,
                        found=sequence,
                        expected=expected_sequence,
                    ),
                )
            if stored_previous != previous_hash:
                return broken(
                    event_id,
                    line_id,
                    self.env._("Event %(event)s does not follow the event before it in its chain.", event=event_id),
                )
            if custody_hash(previous_hash, [value or None for value in values]) != stored_hash:
                return broken(
                    event_id, line_id, self.env._("Event %(event)s was modified after it was recorded.", event=event_id)
                )
            previous_hash = stored_hash
            expected_sequence += 1
        if current_line is not None and not self._head_matches(heads, current_line, expected_sequence, previous_hash):
            return broken(False, current_line, self._missing_tail_message(current_line, expected_sequence))
        for line_id in sorted(set(heads) - seen_lines):
            return broken(
                False,
                line_id,
                self.env._("Unit %(unit)s has a custody history but none of its events remain.", unit=line_id),
            )
        if not seals:
            return result
        # The seals catch what the chains alone cannot: a unit deleted with its whole history, a chain rewritten.
        problem = self.env["rma.custody.seal"]._check_seals(
            company, event_hashes, line_ids=None if line_ids is None else set(line_ids), period=period
        )
        if problem:
            seal_id, line_id, message = problem
            result["broken_seal_id"] = seal_id
            return broken(False, line_id, message)
        return result

    # ------------------------------------------------------------------
    # Export (JSON Lines), for the standalone verifier tools/verify_custody.py
    # ------------------------------------------------------------------
    def _export_lines(self):
        """The export of these events (whole chains as given) and their companies' seals: a header line, then one
        JSON object per event (by unit and position) and per seal (by company and position)."""
        self.env.flush_all()
        yield self._export_header()
        yield from self._export_event_lines(SQL("id = ANY(%s)", self.ids))
        yield from self._export_seal_lines(self.company_id)

    @api.model
    def _export_header(self):
        """The export's first line: its format, version and the order of the hashed values."""
        return {
            "format": "rma_recovery.custody",
            "version": HASH_VERSION,
            "event_fields": list(HASHED_FIELDS),
            "seal_fields": ["company_id", "sequence", "seal_date", "heads", "journal_anchor", "journal_items"],
        }

    @api.model
    def _export_event_lines(self, condition):
        """The export's lines of the events matching ``condition`` (SQL on rma_custody_event), by unit and position."""
        self.env.cr.execute(
            SQL(
                "SELECT id, previous_hash, hash, %s FROM rma_custody_event WHERE %s ORDER BY line_id, sequence, id",
                self._hashed_columns(),
                condition,
            )
        )
        for event_id, previous_hash, event_hash, *values in self.env.cr.fetchall():
            yield {
                "type": "event",
                "id": event_id,
                "values": [value or None for value in values],
                "previous_hash": previous_hash or None,
                "hash": event_hash,
            }

    @api.model
    def _export_seal_lines(self, companies):
        """The export's lines of the ``companies``' seals, by company and position."""
        self.env.cr.execute(
            SQL(
                "SELECT company_id, sequence, to_char(seal_date, 'YYYY-MM-DD HH24:MI:SS'), heads, journal_anchor,"
                " journal_items, previous_hash, hash FROM rma_custody_seal WHERE company_id = ANY(%s)"
                " ORDER BY company_id, sequence",
                companies.ids,
            )
        )
        Seal = self.env["rma.custody.seal"]
        for company_id, sequence, seal_date, heads, anchor, items, previous_hash, seal_hash in self.env.cr.fetchall():
            yield {
                "type": "seal",
                "values": Seal._seal_values(company_id, sequence, seal_date, heads, anchor, items),
                "previous_hash": previous_hash or None,
                "hash": seal_hash,
            }

    @api.model
    def _export_text(self, lines):
        """The JSON Lines text of export lines (one canonical JSON object per line)."""
        return "".join(_canonical_json(line) + "\n" for line in lines)

    def _export_jsonl(self):
        return self._export_text(self._export_lines())

    def _action_export_custody(self):
        if not self:
            raise UserError(self.env._("There is no custody event to export."))
        # Attached to no record: only its creator (and administrators) may read it.
        attachment = self.env["ir.attachment"].create(
            {
                "name": f"custody-{fields.Datetime.now():%Y%m%d-%H%M%S}.jsonl",
                "raw": self._export_jsonl().encode(),
                "mimetype": "application/jsonl",
                "res_model": self._name,
            }
        )
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{attachment.id}?download=true",
            "target": "download",
        }

    @api.model
    def _head_matches(self, heads, line_id, next_sequence, last_hash):
        head_sequence, head_hash = heads.get(line_id, (0, None))
        return head_sequence == next_sequence - 1 and (head_hash or None) == last_hash

    @api.model
    def _missing_tail_message(self, line_id, next_sequence):
        return self.env._(
            "The custody chain of unit %(unit)s ends before its last recorded event: events from position"
            " %(position)s on were deleted.",
            unit=line_id,
            position=next_sequence,
        )
