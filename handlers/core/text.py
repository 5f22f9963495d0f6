"""The one normalisation every text from a resident or a mail goes through, at the edge.

Control characters are dropped because PostgreSQL refuses NUL in text columns (a
NUL in a name or an answer would make the whole handling fail) and because the
rest only ever reach the store by accident. NFC makes "e + combining accent" and
"é" the same answer. A text made only of invisible characters (zero-width
spaces, a byte-order mark, ...) counts as empty, so it is never taken as an answer.
"""

from __future__ import annotations

import re
import unicodedata

# C0 and C1 controls but tab and newline, DEL, and lone surrogates (which UTF-8,
# hence the store, refuses). A regex: mail texts are long, this runs on each.
CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
# Format characters (category Cf: zero-width space/joiners, BOM, bidi marks, soft
# hyphen) are kept inside text (emoji sequences need the joiner) but do not count
# as content; these whitespace-like ones are not Cf yet show nothing either.
INVISIBLE_EXTRA = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def clean_text(text: str) -> str:
    """`text` without controls (but newline and tab), in NFC; "" when nothing visible is left."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    kept = CONTROLS.sub("", text)
    if not unicodedata.is_normalized("NFC", kept):
        kept = unicodedata.normalize("NFC", kept)
    # Stops at the first visible character: cheap for any real text.
    if not any(_visible(char) for char in kept):
        return ""
    return kept


def clean_optional(text: str | None) -> str | None:
    """`clean_text` for a field that may be absent; absent stays absent."""
    return None if text is None else clean_text(text)


def _visible(char: str) -> bool:
    if char in INVISIBLE_EXTRA or char.isspace():
        return False
    return unicodedata.category(char) not in ("Cf", "Cc", "Zs", "Zl", "Zp", "Mn", "Me")
