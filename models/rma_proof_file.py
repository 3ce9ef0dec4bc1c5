"""What a proof of purchase or a photo sent from outside (portal, API) may be: recognised from the file's first bytes,
never from its name. Not Odoo's ``guess_mimetype``: its answer depends on whether libmagic is installed (a truncated
PNG is ``image/png`` without it, ``application/octet-stream`` with it), and a whitelist must not move with the host."""

PROOF_SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
# HEIC: an ISO base media file ("ftyp" at offset 4) of one of HEIF's brands.
HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}


def proof_mimetype(data):
    """The MIME type of ``data`` if it is a PDF, JPEG, PNG or HEIC file, else None."""
    for signature, mimetype in PROOF_SIGNATURES:
        if data.startswith(signature):
            return mimetype
    if data[4:8] == b"ftyp" and data[8:12] in HEIC_BRANDS:
        return "image/heic"
    return None
