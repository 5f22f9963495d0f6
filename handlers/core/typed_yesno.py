"""A typed "tak" / "nie" (or "yes" / "no") counts as pressing the button it names.

Wherever a screen shows a yes/no pair (buttons marked with `Button.means`),
the outbox row of that screen notes which button is "yes" and which is "no"
(handlers/core/replies.py). A resident who types the answer instead of
pressing gets exactly what the press would give: the entry point routes the
typed word as that button, with the same checks (a button of a step the
conversation has left is stale either way).

The words come from the catalogues (`input.yes_words`, `input.no_words`, in
every language, so "yes" works in Polish too); case, spaces and punctuation
do not matter ("Tak!", " NIE.").
"""

from __future__ import annotations

import dataclasses

from handlers.core.context import Context
from handlers.core.events import Inbound, Kind
from handlers.core.i18n import LANGUAGES, Translator
from handlers.core.replies import NO, YES, YES_NO
from storage import outbox


def _normal(text: str) -> str:
    letters = "".join(c if c.isalpha() else " " for c in text.casefold())
    return " ".join(letters.split())


def _words(translator: Translator, language: str, key: str) -> set[str]:
    return {_normal(w) for w in translator.text(language, key).split(",")} - {""}


def _meanings(translator: Translator, text: str | None) -> dict[str, str]:
    """Language -> "yes" / "no", for each language in which `text` is such a word."""
    if not text:
        return {}
    word = _normal(text)
    found = {}
    for language in LANGUAGES:
        if word in _words(translator, language, "input.yes_words"):
            found[language] = YES
        elif word in _words(translator, language, "input.no_words"):
            found[language] = NO
    return found


def meaning(translator: Translator, text: str | None) -> str | None:
    """ "yes", "no", or None when `text` is not one of the yes/no words (or is both)."""
    answers = set(_meanings(translator, text).values())
    return answers.pop() if len(answers) == 1 else None


def language_of(translator: Translator, text: str | None) -> str | None:
    """The language whose yes/no word `text` is, when only one has it ("yes": en)."""
    found = _meanings(translator, text)
    return next(iter(found)) if len(found) == 1 else None


async def as_press(ctx: Context) -> Inbound | None:
    """The typed text as a press of the yes/no button on the resident's last keyboard."""
    event = ctx.event
    if event.kind is not Kind.TEXT or ctx.resident is None:
        return None
    answer = meaning(ctx.services.translator, event.text)
    if answer is None:
        return None
    # Only the last message counts: an older yes/no has been answered or left.
    last = await outbox.last_payload(
        ctx.session, resident_id=ctx.resident.id, channel=event.channel
    )
    pair = last.get(YES_NO) if last else None
    if not isinstance(pair, dict) or not isinstance(pair.get(answer), str):
        return None
    return dataclasses.replace(
        event, kind=Kind.CHOICE, choice=pair[answer], text=None, message_id=None
    )
