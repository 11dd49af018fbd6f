"""What a document is, decided from its bytes (never from the client's word), and a safe
name for it."""

from __future__ import annotations

import re
import unicodedata

# Bytes needed to recognise every accepted type (DICOM's magic sits after a 128-byte preamble).
SNIFF_BYTES = 132
ACCEPTED = ("application/pdf", "image/png", "image/jpeg", "application/dicom")


def sniff(head: bytes) -> str | None:
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[128:132] == b"DICM":
        return "application/dicom"
    return None


def safe_filename(raw: str) -> str:
    """Keep the last path component, letters, digits and a little punctuation."""
    name = unicodedata.normalize("NFKC", raw).replace("\\", "/").split("/")[-1]
    name = re.sub(r"[^A-Za-z0-9._ -]", "_", name).strip(" .")
    return name[:200] or "document"
