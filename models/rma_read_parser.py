"""What barcode scanners and RFID readers send at the dock, read into (GTIN, serial, raw).

Plain Python (no model): the Receive and Custody Scan screens' bulk reads (rma.scan.receive_bulk, custody_bulk) parse
each code with it. The encodings are read by maintained libraries made for them, not by hand:

- RFID tags: SGTIN-96 and SGTIN-198 EPCs, as the hexadecimal an RFID portal exports (or as an EPC URI), with
  ``epcpy``: GTIN-14 + serial (SGTIN-198 carries alphanumeric serials).
- GS1 barcodes (GS1-128, GS1 DataMatrix, with or without their symbology identifier ``]d2``/``]C1``, and the
  human-readable ``(01)…(21)…`` form) with ``biip``: AI 01 (GTIN, check digit verified) and AI 21 (serial, or IMEI).
- Anything else is a plain code, as the single scans read it: an RMA number, a serial number or an IMEI.

A serial of 15 digits whose Luhn check digit fails is flagged (``luhn_failed``): the caller refuses it when it names
an IMEI (a unit of an IMEI product, or no unit at all), as the single scans do.
"""

import re
from dataclasses import dataclass

import biip
import epcpy
from biip.gs1_messages import GS1Message
from biip.gtin import Gtin
from epcpy.epc_schemes.sgtin import SGTIN, SGTINFilterValue
from epcpy.utils.common import ConvertException, revert_uri_escapes

from .rma_line_checks import is_luhn_valid

# Kinds of read
EPC, GS1, PLAIN, INVALID = "epc", "gs1", "plain", "invalid"

# The reasons a code is invalid (the caller words them for the user).
EPC_NOT_SGTIN = "epc_not_sgtin"  # an EPC of another scheme (SSCC, GRAI, …): not a trade item
EPC_UNREADABLE = "epc_unreadable"
GS1_UNREADABLE = "gs1_unreadable"
GS1_NO_GTIN = "gs1_no_gtin"
GS1_NO_SERIAL = "gs1_no_serial"

# An EPC as a reader's hex export: 96 bits (24 hex digits) or 198 bits padded to whole 16-bit words (52 hex digits).
_HEX_EPC = re.compile(r"[0-9A-Fa-f]{24}|[0-9A-Fa-f]{52}")
_EPC_HEADERS = {"30": 24, "36": 52}  # SGTIN-96, SGTIN-198
# Headers of the other EPC schemes epcpy reads (a tag that is not a trade item, still an EPC).
_OTHER_EPC_HEADERS = {f"{int(header, 2):02X}" for header in epcpy.utils.parsers.TAG_ENCODABLE_BINARY_HEADERS} - set(
    _EPC_HEADERS
)
# What separates the codes of a pasted read: new lines, commas, semicolons, tabs and spaces (a line in the GS1
# human-readable form may hold spaces between its elements: it is one code).
_LINES = re.compile(r"[\r\n,;]+")
_GS1_SYMBOLOGY = ("]d2", "]C1", "]Q3", "]e0", "]J1")
MAX_CODE_LENGTH = 128


@dataclass(frozen=True, slots=True)
class Read:
    """One code of a read: its ``kind``, the GTIN-14 and serial it names (EPC, GS1) or the code itself (plain), and
    why it is ``invalid`` (``error``, ``detail``: the library's own words)."""

    raw: str
    kind: str
    gtin: str | None = None
    serial: str | None = None
    error: str | None = None
    detail: str | None = None

    @property
    def code(self):
        """What names the unit: the serial (EPC, GS1) or the code (plain)."""
        return self.serial if self.kind in (EPC, GS1) else self.raw

    @property
    def luhn_failed(self):
        """A 15-digit number whose Luhn check digit fails: not an IMEI."""
        code = self.code or ""
        return len(code) == 15 and code.isdigit() and not is_luhn_valid(code)


def split_read(text):
    """The codes of a pasted read (an RFID portal's export, a list of scans), in their order, with duplicates."""
    codes = []
    for line in _LINES.split(text or ""):
        line = line.strip()
        if not line:
            continue
        if line.startswith("("):
            codes.append("".join(line.split()))  # (01)… (21)…: one code
        else:
            codes.extend(line.split())
    return codes


def gtin14(value):
    """A GTIN-8/12/13/14 (or a product barcode holding one) as GTIN-14, or None if it is not one."""
    value = (value or "").strip()
    if not value.isdigit() or not value.isascii() or len(value) not in (8, 12, 13, 14):
        return None
    return value.zfill(14)


def gtin_candidates(value):
    """The barcodes a product may carry for the GTIN-14 ``value``: the GTIN-14 and its shorter forms (GTIN-13, UPC-A
    GTIN-12, GTIN-8) when the digits they drop are leading zeros."""
    return [value[14 - length :] for length in (14, 13, 12, 8) if not value[: 14 - length].strip("0")]


def parse_code(code):
    """One code as a Read."""
    raw = (code or "").strip()
    if _HEX_EPC.fullmatch(raw):
        header = raw[:2].upper()
        if _EPC_HEADERS.get(header) == len(raw):
            return _parse_epc(raw, lambda: epcpy.hex_to_tag_encodable(raw))
        if header in _OTHER_EPC_HEADERS:
            return _parse_epc(raw, lambda: epcpy.hex_to_tag_encodable(raw))
        return Read(raw, PLAIN)  # a serial that happens to be hexadecimal
    lowered = raw.lower()
    if lowered.startswith("urn:epc:tag:"):
        return _parse_epc(raw, lambda: epcpy.tag_uri_to_tag_encodable(raw))
    if lowered.startswith("urn:epc:id:"):
        return _parse_epc(raw, lambda: epcpy.epc_pure_identity_to_scheme(raw))
    if raw.startswith("("):
        try:
            message = GS1Message.parse_hri(raw)
        except (biip.ParseError, ValueError) as error:
            return Read(raw, INVALID, error=GS1_UNREADABLE, detail=str(error))
        return _from_gs1(raw, message)
    if raw.startswith(_GS1_SYMBOLOGY) or "\x1d" in raw:
        result = biip.parse(raw)
        if not result.gs1_message:
            return Read(raw, INVALID, error=GS1_UNREADABLE, detail=result.gs1_message_error or result.gtin_error)
        return _from_gs1(raw, result.gs1_message)
    if len(raw) > 18 and raw.startswith("01") and raw[2:16].isdigit() and raw[16:18] == "21":
        # An element string without its symbology identifier (a wedge that strips it): AI 01 then AI 21. A plain
        # serial that merely looks like it stays a plain code.
        try:
            message = GS1Message.parse(raw)
        except (biip.ParseError, ValueError):
            return Read(raw, PLAIN)
        read = _from_gs1(raw, message)
        return read if read.kind == GS1 else Read(raw, PLAIN)
    return Read(raw, PLAIN)


def _parse_epc(raw, decode):
    try:
        tag = decode()
    except (ConvertException, ValueError, IndexError, KeyError) as error:
        return Read(raw, INVALID, error=EPC_UNREADABLE, detail=str(error) or type(error).__name__)
    if not isinstance(tag, SGTIN):
        return Read(raw, INVALID, error=EPC_NOT_SGTIN, detail=type(tag).__name__)
    # The element string (01)<GTIN-14>(21)<serial>, the serial's URI escapes undone.
    element = tag.gs1_element_string()
    return Read(raw, EPC, gtin=tag.gtin(), serial=element[len("(01)") + 14 + len("(21)") :])


def _from_gs1(raw, message):
    gtin_element = message.element_strings.get(ai="01")
    serial_element = message.element_strings.get(ai="21")
    if not gtin_element:
        return Read(raw, INVALID, error=GS1_NO_GTIN)
    try:
        gtin = Gtin.parse(gtin_element.value)  # its check digit verified
    except biip.ParseError as error:
        return Read(raw, INVALID, error=GS1_UNREADABLE, detail=str(error))
    if not serial_element or not serial_element.value.strip():
        return Read(raw, INVALID, gtin=gtin14(gtin.value), error=GS1_NO_SERIAL)
    return Read(raw, GS1, gtin=gtin14(gtin.value), serial=serial_element.value.strip())


def sgtin_hex(gtin, serial, company_prefix_length=7):
    """The EPC hex an RFID tag of the unit (GTIN, serial) carries, encoded by epcpy: SGTIN-96 for a numeric serial
    that fits it (no leading zero, below 2^38), SGTIN-198 otherwise (alphanumeric serials). For the demo's pallets
    and the tests: what a tag printer writes."""
    tag = SGTIN.from_gtin_plus_serial(gtin14(gtin), revert_uri_escapes(serial), company_prefix_length)
    numeric = (
        serial.isdigit() and serial.isascii() and not (len(serial) > 1 and serial[0] == "0") and int(serial) < 2**38
    )
    scheme = SGTIN.BinaryCodingScheme.SGTIN_96 if numeric else SGTIN.BinaryCodingScheme.SGTIN_198
    return tag.hex(binary_coding_scheme=scheme, filter_value=SGTINFilterValue.POS_ITEM).upper()
