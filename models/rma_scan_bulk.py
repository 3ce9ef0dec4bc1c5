from datetime import UTC, datetime

from odoo import api, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.fields import Domain
from odoo.tools import SQL

from .rma_line import ON_HAND_STATES
from .rma_read_parser import (
    EPC_NOT_SGTIN,
    EPC_UNREADABLE,
    GS1,
    GS1_NO_GTIN,
    GS1_NO_SERIAL,
    INVALID,
    MAX_CODE_LENGTH,
    PLAIN,
    gtin14,
    gtin_candidates,
    parse_code,
    split_read,
)
from .rma_workflow_guard import USER_GROUP
from .stock_picking import RECEIVABLE_RMA_STATES

# The classes of a bulk read's codes, in the order the screen lists them.
DONE, DUPLICATE, UNKNOWN, ALREADY, NOT_ON_RMA, AMBIGUOUS, INVALID_CLASS, REFUSED = (
    "done",
    "duplicate",
    "unknown",
    "already",
    "not_on_rma",
    "ambiguous",
    "invalid",
    "refused",
)
BULK_CLASSES = (DONE, DUPLICATE, UNKNOWN, ALREADY, NOT_ON_RMA, AMBIGUOUS, INVALID_CLASS, REFUSED)
MAX_BULK_CODES = 10000
# A unit's line closed, refused or cancelled: its serial names it no more.
ENDED_STATES = ("closed", "rejected", "cancel")


class RmaScan(models.AbstractModel):
    """Bulk reads at the dock: a list of codes read at once (an RFID portal's read of a pallet, GS1 barcodes, a paste)
    received or handed over in one transaction, with one custody event per unit carrying the read's identifier.

    Each code is parsed (rma_read_parser: SGTIN EPCs, GS1 element strings, plain codes), the list deduplicated and
    resolved to units with a few queries for the whole read, each code classified, and the accepted units processed
    through the batch paths of the single scans (stock.picking._rma_receive, rma.line._action_move_to), all of them
    or none: a failure while processing them rolls the read back and is reported, the rejects are listed with their
    reason.
    """

    _inherit = "rma.scan"

    # ------------------------------------------------------------------
    # Receive
    # ------------------------------------------------------------------
    @api.model
    def receive_bulk(self, codes, rma_id=False, station=False, read_ref=False):
        """Receive the units a read names into quarantine. ``codes``: a list of codes, or the text of a paste (codes
        separated by new lines, commas, semicolons or spaces). ``rma_id``: the RMA on screen; without it, an RMA
        number in the read (one) restricts the read to that RMA, else the units of any authorized RMA are received."""
        self._ensure_bulk_user()
        codes, rma_id, station, read_ref = self._check_bulk_arguments(codes, rma_id, station, read_ref)
        rma = self.env["rma.order"].browse(rma_id).exists() if rma_id else self.env["rma.order"]
        if rma_id and not rma:
            raise UserError(self.env._("This RMA no longer exists."))
        entries = self._bulk_entries(codes)
        resolution = self._bulk_resolve(entries)
        rmas_read = resolution["rmas"]
        if not rma and len(rmas_read) == 1:
            rma = rmas_read
        if rma and rma.state not in RECEIVABLE_RMA_STATES:
            raise UserError(
                self.env._(
                    "%(rma)s is %(state)s: only authorized RMAs can be received.",
                    rma=rma.name,
                    state=self._state_label(rma),
                )
            )
        in_stock = self._bulk_lots_in_stock(resolution["lines"])
        accepted = self.env["rma.line"]
        for entry in entries:
            if entry.get("class"):
                continue
            if entry.get("rma"):
                entry["class"] = "rma_number"
                continue
            candidates = self._bulk_candidates(entry, resolution)
            if candidates is None:
                continue
            if rma:
                on_rma = candidates.filtered(lambda line: line.rma_id == rma)
                if not on_rma:
                    others = candidates.filtered(lambda line: line.state not in ENDED_STATES).rma_id
                    self._classify(
                        entry,
                        NOT_ON_RMA,
                        self.env._("on %(rmas)s", rmas=", ".join(others.mapped("name")))
                        if others
                        else self.env._("not a unit of %(rma)s", rma=rma.name),
                    )
                    continue
                candidates = on_rma
            pending = candidates.filtered(
                lambda line: line.state == "authorized" and line.rma_id.state in RECEIVABLE_RMA_STATES
            )
            if len(pending) > 1:
                self._classify(
                    entry,
                    AMBIGUOUS,
                    self.env._("matches %(units)s", units=", ".join(pending.mapped("display_name"))),
                )
            elif pending:
                if pending.lot_id and pending.lot_id in in_stock:
                    self._classify(entry, ALREADY, self.env._("already in our stock"))
                elif self._accept(entry, pending, accepted):
                    accepted |= pending
            elif candidates.filtered(lambda line: line.state not in ("draft", "authorized", *ENDED_STATES)):
                received = candidates.filtered(lambda line: line.state not in ("draft", "authorized", *ENDED_STATES))
                self._classify(
                    entry,
                    ALREADY,
                    self.env._(
                        "%(unit)s is %(state)s", unit=received[0].display_name, state=self._state_label(received[0])
                    ),
                )
            else:
                line = candidates[0]
                self._classify(
                    entry,
                    REFUSED,
                    self.env._("%(rma)s is %(state)s", rma=line.rma_id.name, state=self._state_label(line.rma_id))
                    if line.rma_id.state not in RECEIVABLE_RMA_STATES
                    else self.env._("%(unit)s is %(state)s", unit=line.display_name, state=self._state_label(line)),
                )

        def process():
            self.env["stock.picking"]._rma_receive(
                accepted,
                station=station,
                scanned_codes={entry["unit"].id: entry["raw"] for entry in entries if entry.get("class") == DONE},
                read_ref=read_ref,
            )

        summary = self._bulk_process(entries, accepted, read_ref, process, receive=True)
        if rma:
            rma.invalidate_recordset()
            return {**self._receive_state(rma, summary["message"], summary["level"]), "bulk": summary}
        return {"message": summary["message"], "level": summary["level"], "bulk": summary}

    # ------------------------------------------------------------------
    # Custody: hand the units over to a location
    # ------------------------------------------------------------------
    @api.model
    def custody_bulk(self, codes, location_id=False, station=False, read_ref=False):
        """Hand the units a read names over to a storage location: ``location_id``, or the location whose barcode
        the read holds (one)."""
        self._ensure_bulk_user()
        codes, location_id, station, read_ref = self._check_bulk_arguments(codes, location_id, station, read_ref)
        entries = self._bulk_entries(codes)
        resolution = self._bulk_resolve(entries, locations=True)
        location = self.env["stock.location"].browse(location_id).exists() if location_id else resolution["locations"]
        if location_id and not location:
            raise UserError(self.env._("This location no longer exists."))
        if not location:
            raise UserError(
                self.env._("Read or scan the barcode of the location the units are handed to: nothing was recorded.")
            )
        if len(location) > 1:
            raise UserError(
                self.env._(
                    "The read names several locations (%(locations)s): hand the units to one location per read."
                    " Nothing was recorded.",
                    locations=", ".join(location.mapped("display_name")),
                )
            )
        accepted = self.env["rma.line"]
        for entry in entries:
            if entry.get("class"):
                continue
            if entry.get("location") or entry.get("rma"):
                entry["class"] = "location" if entry.get("location") else "rma_number"
                continue
            candidates = self._bulk_candidates(entry, resolution)
            if candidates is None:
                continue
            on_hand = candidates.filtered(lambda line: line.state in ON_HAND_STATES)
            if len(on_hand) > 1:
                self._classify(
                    entry, AMBIGUOUS, self.env._("matches %(units)s", units=", ".join(on_hand.mapped("display_name")))
                )
                continue
            if not on_hand:
                self._classify(
                    entry,
                    REFUSED,
                    self.env._(
                        "%(unit)s is not in our custody (%(state)s)",
                        unit=candidates[0].display_name,
                        state=self._state_label(candidates[0]),
                    ),
                )
                continue
            try:
                on_hand._ensure_can_be_handed_to(location)
            except UserError as error:
                self._classify(entry, REFUSED, error.args[0])
                continue
            if self._accept(entry, on_hand, accepted):
                accepted |= on_hand

        def process():
            accepted._action_move_to(
                location,
                station=station,
                scanned_code={entry["unit"]: entry["raw"] for entry in entries if entry.get("class") == DONE},
                read_ref=read_ref,
            )

        summary = self._bulk_process(entries, accepted, read_ref, process, receive=False)
        summary["location"] = location.display_name
        return {"line": False, "message": summary["message"], "level": summary["level"], "bulk": summary}

    # ------------------------------------------------------------------
    # The read: arguments, parsing, resolution
    # ------------------------------------------------------------------
    @api.model
    def _ensure_bulk_user(self):
        """Bulk reads receive and move units: for Returns users (and above), whatever a client calls."""
        if not self.env.su and not self.env.user.has_group(USER_GROUP):
            raise AccessError(self.env._("Only Returns users receive or hand over units by a bulk read."))

    @api.model
    def _check_bulk_arguments(self, codes, record_id, station, read_ref):
        if isinstance(codes, str):
            codes = split_read(codes)
        if not isinstance(codes, list | tuple) or not all(isinstance(code, str) for code in codes):
            raise UserError(self.env._("A bulk read is a list of codes (lines of text)."))
        codes = [code.strip() for code in codes if code.strip()]
        if not codes:
            raise UserError(self.env._("The read holds no code: paste or read the codes first."))
        if len(codes) > MAX_BULK_CODES:
            raise UserError(
                self.env._("A read holds at most %(count)s codes: split it in several reads.", count=MAX_BULK_CODES)
            )
        if any("\x00" in code or len(code) > MAX_CODE_LENGTH for code in codes):
            raise UserError(
                self.env._(
                    "A code of the read is not a line of text of at most %(length)s characters.", length=MAX_CODE_LENGTH
                )
            )
        _code, record_id, station = self._check_scan_arguments(codes[0], record_id, station)
        if read_ref in (None, False, ""):
            read_ref = self._new_read_ref(station)
        elif not isinstance(read_ref, str) or "\x00" in read_ref or len(read_ref) > 64 or not read_ref.strip():
            raise UserError(self.env._("The read's identifier must be a short line of text."))
        return codes, record_id, station, read_ref.strip()

    @api.model
    def _new_read_ref(self, station):
        """READ/<station>/<UTC time to the millisecond>: names the read in its units' custody events."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%f")[:-3]
        return f"READ/{station or 'DOCK'}/{stamp}"

    @api.model
    def _bulk_entries(self, codes):
        """One entry per distinct code (whatever its case), its Read parsed; the others counted as duplicates."""
        entries, seen = [], {}
        for code in codes:
            key = code.casefold()
            if key in seen:
                seen[key]["duplicates"] += 1
                continue
            read = parse_code(code)
            entry = {"raw": code, "read": read, "duplicates": 0}
            seen[key] = entry
            entries.append(entry)
            if read.kind == INVALID:
                self._classify(entry, INVALID_CLASS, self._invalid_reason(read))
        return entries

    @api.model
    def _invalid_reason(self, read):
        reasons = {
            EPC_NOT_SGTIN: self.env._("an RFID tag of another kind (%(scheme)s), not a trade item (SGTIN)"),
            EPC_UNREADABLE: self.env._("an unreadable EPC (%(detail)s)"),
            GS1_NO_GTIN: self.env._("a GS1 barcode without GTIN (AI 01)"),
            GS1_NO_SERIAL: self.env._("a product's GTIN without serial number (AI 21): scan the unit's own label"),
        }
        detail = read.detail or ""
        reason = reasons.get(read.error) or self.env._("an unreadable GS1 barcode (%(detail)s)")
        return reason % {"scheme": detail, "detail": detail}

    @api.model
    def _bulk_resolve(self, entries, locations=False):
        """Everything the read's codes name, with a few queries for the whole read: the products of its GTINs, the
        units of its serials (their declared serial or their lot, whatever the case), the RMA numbers among its plain
        codes (and the locations' barcodes for a handover)."""
        open_entries = [entry for entry in entries if not entry.get("class")]
        gtins = {entry["read"].gtin for entry in open_entries if entry["read"].gtin}
        products_by_gtin = {}
        if gtins:
            barcodes = [barcode for gtin in gtins for barcode in gtin_candidates(gtin)]
            products = (
                self.env["product.product"]
                .with_context(active_test=False)
                .search([("barcode", "in", barcodes), ("company_id", "in", [False, *self.env.companies.ids])])
            )
            for product in products:
                products_by_gtin.setdefault(gtin14(product.barcode), self.env["product.product"])
                products_by_gtin[gtin14(product.barcode)] |= product
        keys = sorted({entry["read"].code.lower() for entry in open_entries if entry["read"].code})
        lines = self.env["rma.line"]
        if keys:
            lot_ids = (
                self.env["stock.lot"]
                ._search(
                    Domain.custom(
                        to_sql=lambda model, alias, query: SQL(
                            "lower(%s) = ANY(%s)", model._field_to_sql(alias, "name", query), keys
                        )
                    )
                )
                .get_result_ids()
            )
            serial_in_keys = Domain.custom(
                to_sql=lambda model, alias, query: SQL(
                    "lower(btrim(%s)) = ANY(%s)", model._field_to_sql(alias, "serial_number", query), keys
                )
            )
            lines = lines.search(serial_in_keys | Domain("lot_id", "in", lot_ids), order="id desc")
        lines_by_key = {}
        for line in lines:
            for key in {(line.serial_number or "").strip().lower(), (line.lot_id.name or "").lower()} - {""}:
                lines_by_key.setdefault(key, lines.browse())
                lines_by_key[key] |= line
        plain_keys = [entry["raw"].lower() for entry in open_entries if entry["read"].kind == PLAIN]
        rmas = self.env["rma.order"]
        location_by_key = {}
        if plain_keys:
            rmas = rmas.search(self._lower_in("name", plain_keys))
            if locations:
                found = self.env["stock.location"].search(
                    self._lower_in("barcode", plain_keys) & Domain("company_id", "in", [False, *self.env.companies.ids])
                )
                location_by_key = {location.barcode.lower(): location for location in found}
        rma_by_key = {rma.name.lower(): rma for rma in rmas}
        read_rmas, read_locations = self.env["rma.order"], self.env["stock.location"]
        for entry in open_entries:
            key = entry["raw"].lower()
            if entry["read"].kind == PLAIN and key in rma_by_key and key not in lines_by_key:
                entry["rma"] = rma_by_key[key]
                read_rmas |= entry["rma"]
            elif entry["read"].kind == PLAIN and key in location_by_key and key not in lines_by_key:
                entry["location"] = location_by_key[key]
                read_locations |= entry["location"]
        return {
            "products": products_by_gtin,
            "lines": lines,
            "lines_by_key": lines_by_key,
            "rmas": read_rmas,
            "locations": read_locations,
        }

    @api.model
    def _lower_in(self, field_name, keys):
        return Domain.custom(
            to_sql=lambda model, alias, query: SQL(
                "lower(%s) = ANY(%s)", model._field_to_sql(alias, field_name, query), list(keys)
            )
        )

    @api.model
    def _bulk_candidates(self, entry, resolution):
        """The units the entry's code names (of its GTIN's product for an EPC or GS1 read), or None once the entry is
        classified (unknown, invalid IMEI)."""
        read = entry["read"]
        candidates = resolution["lines_by_key"].get(read.code.lower(), self.env["rma.line"])
        if read.gtin:
            products = resolution["products"].get(read.gtin, self.env["product.product"])
            if not products:
                kind = self.env._("RFID tag") if read.kind != GS1 else self.env._("GS1 barcode")
                self._classify(
                    entry,
                    UNKNOWN,
                    self.env._(
                        "%(kind)s of GTIN %(gtin)s: no product carries it as its barcode", kind=kind, gtin=read.gtin
                    ),
                )
                return None
            candidates = candidates.filtered(lambda line: line.product_id in products)
        # A unit declared with that very number was accepted when its RMA was authorized (an override): received as
        # the single scan receives it. Any other 15-digit number failing its check digit is a misread IMEI.
        if read.luhn_failed and not candidates:
            self._classify(entry, INVALID_CLASS, self.env._("not an IMEI: its check digit (Luhn) is wrong"))
            return None
        if not candidates:
            self._classify(
                entry,
                UNKNOWN,
                self.env._(
                    "serial %(serial)s: no unit of %(product)s",
                    serial=read.code,
                    product=", ".join(products.mapped("display_name")),
                )
                if read.gtin
                else self.env._("neither a unit's serial nor an RMA number we know"),
            )
            return None
        return candidates

    @api.model
    def _bulk_lots_in_stock(self, lines):
        """The lots among the units' that are already in the company's stock: not received again."""
        lots = lines.lot_id
        if not lots:
            return lots
        groups = self.env["stock.quant"]._read_group(
            [
                ("lot_id", "in", lots.ids),
                ("location_id.usage", "in", ("internal", "transit")),
                ("quantity", ">", 0),
            ],
            ["lot_id"],
        )
        return lots.browse([lot.id for [lot] in groups])

    @api.model
    def _classify(self, entry, bulk_class, reason=False):
        entry["class"] = bulk_class
        entry["reason"] = reason

    @api.model
    def _accept(self, entry, unit, accepted):
        """The entry names ``unit``: accepted, unless another code of the read named it already (a tag and its
        barcode, say): a duplicate."""
        if unit in accepted:
            entry["class"] = DUPLICATE
            entry["reason"] = self.env._("%(unit)s already read", unit=unit.display_name)
            return False
        entry["class"] = DONE
        entry["unit"] = unit
        return True

    # ------------------------------------------------------------------
    # Processing, all or nothing, and the summary
    # ------------------------------------------------------------------
    @api.model
    def _bulk_process(self, entries, accepted, read_ref, process, receive):
        error = False
        if accepted:
            try:
                # All the accepted units or none: what the processing wrote is rolled back with its error.
                with self.env.cr.savepoint():
                    process()
            except (UserError, ValidationError) as exception:
                error = exception.args[0]
        return self._bulk_summary(entries, accepted, read_ref, error, receive)

    @api.model
    def _bulk_labels(self, receive):
        return {
            DONE: self.env._("Received") if receive else self.env._("Handed over"),
            DUPLICATE: self.env._("Duplicates"),
            UNKNOWN: self.env._("Unknown"),
            ALREADY: self.env._("Already received"),
            NOT_ON_RMA: self.env._("Not on this RMA"),
            AMBIGUOUS: self.env._("Ambiguous"),
            INVALID_CLASS: self.env._("Invalid"),
            REFUSED: self.env._("Refused"),
        }

    @api.model
    def _bulk_summary(self, entries, accepted, read_ref, error, receive):
        labels = self._bulk_labels(receive)
        counts = dict.fromkeys(BULK_CLASSES, 0)
        rejects = []
        for entry in entries:
            counts[DUPLICATE] += entry["duplicates"]
            bulk_class = entry.get("class")
            if bulk_class not in counts:
                continue  # the read's RMA number or location
            counts[bulk_class] += 1
            if bulk_class not in (DONE, DUPLICATE):
                rejects.append(
                    {"code": entry["raw"], "class": bulk_class, "label": labels[bulk_class], "reason": entry["reason"]}
                )
        if error:
            counts[DONE] = 0
            message = self.env._(
                "Nothing was recorded: %(error)s The read's %(count)s accepted units were left as they were.",
                error=error,
                count=len(accepted),
            )
            level = "danger"
        else:
            message = (
                self.env._(
                    "Read %(ref)s: %(count)s unit(s) received into quarantine.", ref=read_ref, count=counts[DONE]
                )
                if receive
                else self.env._("Read %(ref)s: %(count)s unit(s) handed over.", ref=read_ref, count=counts[DONE])
            )
            level = "success" if counts[DONE] and not rejects else "warning" if counts[DONE] else "danger"
            if rejects:
                message = self.env._("%(message)s %(count)s code(s) rejected.", message=message, count=len(rejects))
        return {
            "read_ref": read_ref,
            "counts": counts,
            "labels": labels,
            "classes": list(BULK_CLASSES),
            "rejects": rejects,
            "units": [] if error else accepted.mapped("display_name"),
            "error": error,
            "message": message,
            "level": level,
        }
