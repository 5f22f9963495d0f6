"""Button labels that fit: cut at a word with "…", never in the middle of one.

A phone shows about `FULL_WIDTH` characters on a button that takes a whole row;
buttons sharing a row share that width. Telegram cuts a longer label itself,
anywhere ("… lub organ"), so every keyboard passes through `fit_keyboard`
before it leaves for a channel (handlers/core/replies.py). Content may give
short labels of its own; this is the fallback for the rest.
"""

from __future__ import annotations

import re

from handlers.core.events import Button

FULL_WIDTH = 40
# A button in a crowded row still shows this much before it is cut.
NARROWEST = 12
ELLIPSIS = "…"
# Dropped before the ellipsis: "Sport, rekreacja…", not "Sport, rekreacja,…".
TRAILING = " ,;:–-—/(" + "\u00a0"


def width_in_row(buttons_in_row: int) -> int:
    """How many characters one of `buttons_in_row` buttons may show."""
    return max(NARROWEST, FULL_WIDTH // max(1, buttons_in_row))


def cut_label(label: str, limit: int = FULL_WIDTH) -> str:
    """`label` if it fits, else its longest start ending at a word, with "…"."""
    # Line breaks and runs of spaces become one space; a no-break space (in
    # "4 500,00") stays, so amounts are not split or changed.
    label = re.sub(r"[ \t\r\n]+", " ", label).strip()
    if len(label) <= limit:
        return label
    room = label[: limit - len(ELLIPSIS) + 1]
    head = room.rsplit(" ", 1)[0] if " " in room else ""
    head = head.rstrip(TRAILING)
    if len(head) < limit // 3:
        # One very long word: cut it, as nothing better exists.
        head = label[: limit - len(ELLIPSIS)].rstrip(TRAILING)
    return head + ELLIPSIS


def fit_keyboard(rows: list[list[Button]]) -> list[list[Button]]:
    """The rows with every label cut to what its row leaves for it."""
    fitted = []
    for row in rows:
        limit = width_in_row(len(row))
        fitted.append([Button(cut_label(b.label, limit), b.data, b.means) for b in row])
    return fitted
