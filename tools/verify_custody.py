#!/usr/bin/env python3
"""Verify an export of rma_recovery's chains of custody, without Odoo.

Usage: python3 tools/verify_custody.py EXPORT.jsonl

The export (Returns > Units or RMAs > Export Chain of Custody) is JSON Lines:
- line 1, the header: {"format": "rma_recovery.custody", "version": 1, "event_fields": [...], "seal_fields": [...]}
- one line per event, by unit and position: {"type": "event", "id": ..., "values": [...], "previous_hash": ...,
  "hash": ...}, ``values`` in the order of ``event_fields`` (position, unit id, ...; the date as
  "YYYY-MM-DD HH:MM:SS"; empty values as null)
- one line per seal, by company and position: {"type": "seal", "values": [company id, position, date, heads],
  "previous_hash": ..., "hash": ...}, ``heads`` the JSON text [[unit id, position, hash], ...]; seals made since
  19.0.1.8.0 add the RMA journal's anchor and sealed items (JSON texts), hashed with the rest

Each hash is "$1$" + sha256(previous hash, or "" for the first, followed by the compact JSON array of the values).
The verifier recomputes every event and seal hash, checks each unit's positions follow each other and link to the
event before, that the seals form one chain per company, and that every sealed head of a unit in the export is
the exported event at that position. It prints OK, or the first tampered line, and exits 0 or 1.
"""

import hashlib
import json
import sys

_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def chain_hash(previous_hash, values):
    digest = hashlib.sha256(f"{previous_hash or ''}{_encode(values)}".encode()).hexdigest()
    return f"$1${digest}"


def verify(lines):
    """(ok, message, event count) for an iterable of the export's lines (text)."""
    lines = iter(lines)
    header = json.loads(next(lines))
    if header.get("format") != "rma_recovery.custody" or header.get("version") != 1:
        return False, "not an rma_recovery custody export (version 1)", 0
    position_index = header["event_fields"].index("sequence")
    unit_index = header["event_fields"].index("line_id")
    events, units, seals_by_company = 0, {}, {}
    sealed = []
    for number, text in enumerate(lines, start=2):
        record = json.loads(text)
        values = record["values"]
        if record["type"] == "event":
            events += 1
            unit, position = values[unit_index], values[position_index]
            last = units.get(unit)
            if last is not None:
                last_position, last_hash, hashes = last
                if position != last_position + 1:
                    return (
                        False,
                        f"line {number}: unit {unit} jumps from position {last_position} to {position}",
                        events,
                    )
                if record["previous_hash"] != last_hash:
                    return False, f"line {number}: event {record['id']} does not follow the event before it", events
            else:
                hashes = {}
            if chain_hash(record["previous_hash"], values) != record["hash"]:
                return (
                    False,
                    f"line {number}: event {record['id']} (unit {unit}, position {position}) was modified",
                    events,
                )
            hashes[position] = record["hash"]
            units[unit] = (position, record["hash"], hashes)
        elif record["type"] == "seal":
            company, position = values[0], values[1]
            previous = seals_by_company.get(company)
            if record["previous_hash"] != previous:
                return (
                    False,
                    f"line {number}: seal {position} of company {company} does not follow its previous seal",
                    events,
                )
            if chain_hash(record["previous_hash"], values) != record["hash"]:
                return False, f"line {number}: seal {position} of company {company} was modified", events
            seals_by_company[company] = record["hash"]
            sealed.append((number, position, json.loads(values[3])))
    first_positions = {unit: min(hashes) for unit, (_last, _hash, hashes) in units.items()}
    for number, seal_position, heads in sealed:
        for unit, position, head_hash in heads:
            if unit not in units or not first_positions[unit] <= position <= units[unit][0]:
                continue  # not in this export
            if units[unit][2].get(position) != head_hash:
                return (
                    False,
                    f"line {number}: seal {seal_position} covers unit {unit} at position {position}, which the export"
                    " does not hold as sealed (deleted or rewritten)",
                    events,
                )
    return True, f"OK: {events} events of {len(units)} units, {len(sealed)} seals", events


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as export:
        ok, message, _count = verify(export)
    print(message)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
