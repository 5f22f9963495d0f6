"""What a file really is, told from its bytes, never from what the sender claims.

A resident's client (or anyone forging a request) chooses the file's name and
its `mime_type`; an HTML page sent as `application/pdf` must not be stored as
a PDF, nor kept as `.html`. So the type comes from the content (the `filetype`
library reads the magic numbers, and looks inside ZIP containers for DOCX,
XLSX, ODT...), the stored name's extension follows the detected type, and a
type the contest does not list is refused.

Plain text has no magic number. Bytes that `filetype` does not recognise are
taken as text only when they decode as UTF-8 without control characters
other than tab and line breaks and do not start like markup (`<`: HTML, SVG
and XML decode as text but a browser runs them), and only when the contest lists `text/plain`
(stored as `.txt`) or, failing that, `text/csv` (stored as `.csv`): a text
file is harmless under either name, and anything else unrecognised is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import filetype

TEXT_TYPES = {"text/plain": "txt", "text/csv": "csv"}
# Control characters a text file does not contain (tab, LF, CR are fine).
_BINARY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Detected:
    mime_type: str
    extension: str


def detect(content: bytes, accepted: list[str]) -> Detected | None:
    """The file's type from its bytes, or None when it is not one of `accepted`."""
    kind = filetype.guess(content)
    if kind is not None:
        found = Detected(kind.mime, kind.extension)
    else:
        found = _text(content, accepted)
    if found is None or found.mime_type not in accepted:
        return None
    return found


def _text(content: bytes, accepted: list[str]) -> Detected | None:
    try:
        decoded = content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    text = decoded.lstrip("\ufeff \t\r\n")
    # Markup (HTML, SVG, XML) decodes as text too, but a browser runs it: not text.
    if not text or text.startswith("<") or _BINARY.search(text):
        return None
    for mime, extension in TEXT_TYPES.items():
        if mime in accepted:
            return Detected(mime, extension)
    return None


def accepted_names(accepted: list[str]) -> str:
    """The contest's types as a resident knows them: "PDF, JPG, PNG"."""
    names = []
    for mime in accepted:
        known = filetype.get_type(mime=mime)
        extension = known.extension if known is not None else TEXT_TYPES.get(mime)
        names.append(extension.upper() if extension else mime)
    return ", ".join(dict.fromkeys(names))


def stored_name(sent: str | None, detected: Detected, number: int, *, safe: re.Pattern[str]) -> str:
    """The sender's name made safe, with the extension of what the file really is."""
    stem = sent.rsplit(".", 1)[0] if sent and "." in sent.strip(".") else sent
    stem = safe.sub("_", stem or "").strip("._")[:100] or f"attachment-{number}"
    return f"{stem}.{detected.extension}"
