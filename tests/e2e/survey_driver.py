"""Answers a survey in the fake Telegram like a quick resident: first option everywhere.

In a matrix: the first value of every row, then "Done".
"""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import LiveBot
from tests.handlers.surveys.answering import is_scale_row

NAVIGATION = ("Wstecz", "Pomiń")
QUESTION = "Pytanie "


def typed_answer(question_text: str) -> str:
    """What a resident would type, judged from the hint under the question."""
    if "adres e-mail" in question_text:
        return "mieszkaniec@example.pl"
    if "numer telefonu" in question_text:
        return "600 123 456"
    if "datę" in question_text:
        return "15.05.2021"
    if "liczbę" in question_text:
        return "5"
    return "Anna"


async def answer_survey(bot: LiveBot, user_id: int, *, until: str, steps: int = 200) -> int:
    """Answer question after question until a message contains `until`; returns the steps."""
    for step in range(steps):
        # The latest question (an error message in between has no buttons).
        last: dict[str, Any] = next(
            m
            for m in reversed(bot.api.sent(user_id))
            if until in (m["text"] or "") or (m["text"] or "").startswith(QUESTION)
        )
        if until in (last["text"] or ""):
            return step
        buttons = [b for row in last.get("buttons") or [] for b in row]
        options = [b for b in buttons if not any(n in b["text"] for n in NAVIGATION)]
        done = [b for b in options if b["text"].startswith("Gotowe")]
        unrated = [
            row[0]
            for row in last.get("buttons") or []
            if is_scale_row([b["text"] for b in row]) and not any("✅" in b["text"] for b in row)
        ]
        already = len(bot.api.sent(user_id))
        if unrated:
            bot.api.push_callback(user_id, unrated[0]["callback_data"])
        elif done:
            ticked = any(b["text"].startswith("✅") for b in options)
            target = done[0] if ticked else options[0]
            bot.api.push_callback(user_id, target["callback_data"])
        elif options:
            bot.api.push_callback(user_id, options[0]["callback_data"])
        else:
            bot.api.push_message(user_id, typed_answer(last["text"]))
        await bot.replies(user_id, already, 1)
    tail = [m["text"][:80] for m in bot.api.sent(user_id)[-4:]]
    raise AssertionError(f"survey not finished after {steps} steps: {tail}")
