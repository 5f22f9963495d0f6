"""Answer a survey in the terminal harness like a resident: first option, or typed text.

`typed` maps a piece of a question's text to what the resident types there;
other typed questions get a plausible answer judged from the hint. Buttons:
the first option, unless `pressed` names another; in a matrix, the first value of
every row, then "Done".
"""

from __future__ import annotations

from handlers.core.events import Reply
from tests.harness import Person

QUESTION = "Pytanie "
NAVIGATION = ("Wstecz", "Pomiń")


def is_scale_row(labels: list[str]) -> bool:
    """A row of ratings (a scale, or one matrix item's values)."""
    values = [label.replace("✅", "").strip() for label in labels]
    return len(values) > 1 and all(v.isdigit() or v == "?" for v in values)


def _typed(text: str, typed: dict[str, str]) -> str:
    for piece, answer in typed.items():
        if piece in text:
            return answer
    if "datę" in text:
        return "15.05.2026"
    if "liczbę" in text:
        return "3"
    return "Coś od siebie"


async def answer_all(
    person: Person, *, until: str, typed: dict[str, str], pressed: dict[str, str] | None = None
) -> list[Reply]:
    """Answer question after question until a reply contains `until`; all replies seen.

    `pressed` maps a piece of a question's text to a piece of the button to press there.
    """
    seen: list[Reply] = []
    for _ in range(100):
        last = next(
            r for r in reversed(person.seen) if r.text.startswith(QUESTION) or until in r.text
        )
        if until in last.text:
            return seen
        options = [
            b for row in last.buttons for b in row if not any(n in b.label for n in NAVIGATION)
        ]
        done = [b for b in options if b.label.startswith("Gotowe")]
        wanted = [
            b
            for piece, label in (pressed or {}).items()
            if piece in last.text
            for b in options
            if label in b.label
        ]
        unrated = [
            row[0]
            for row in last.buttons
            if is_scale_row([b.label for b in row]) and not any("✅" in b.label for b in row)
        ]
        if wanted:
            seen += await person.choose(wanted[0].data)
        elif unrated:
            seen += await person.choose(unrated[0].data)
        elif done:
            ticked = any(b.label.startswith("✅") for b in options)
            seen += await person.choose((done[0] if ticked else options[0]).data)
        elif options:
            seen += await person.choose(options[0].data)
        else:
            seen += await person.send(_typed(last.text, typed))
    raise AssertionError(f"survey not finished: {[r.text[:60] for r in person.seen[-3:]]}")
