"""Bytes -> text for mail, whatever charset it claims.

Polish mail comes in UTF-8, ISO-8859-2 and Windows-1250, often mislabelled or not
labelled at all: the declared charset is tried first, then the fallbacks, then
replacement characters. The result is always storable (no NUL, no lone surrogates).
"""

from __future__ import annotations

FALLBACK_CHARSETS = ("utf-8", "cp1250", "iso-8859-2")

# Tabs and line ends become spaces, other control characters go.
ONE_LINE = {9: " ", 10: " ", 13: " ", 0x7F: None} | {
    code: None for code in range(0x20) if code not in (9, 10, 13)
}


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Text from bytes: the declared charset when it works, else the Polish fallbacks."""
    if declared:
        name = declared.strip().strip("\"'").lower()
        try:
            return data.decode(name)
        except (LookupError, UnicodeError, ValueError, TypeError):
            pass
    for charset in FALLBACK_CHARSETS:
        try:
            return data.decode(charset)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", "replace")


def clean(text: str) -> str:
    """No NUL (PostgreSQL refuses it) and no lone surrogates (UTF-8 refuses them)."""
    text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def one_line(text: str) -> str:
    """Text for a header: one line, no control characters, storable."""
    return clean(text.translate(ONE_LINE)).strip()


def has_surrogates(text: str) -> bool:
    """Whether the parser kept raw 8-bit bytes in `text` (as lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
