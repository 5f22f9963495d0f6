"""The diagnosis in Telegram without a flood: few messages, few taps, answers edited in place.

A real PTB Application talks to the fake Bot API; what counts is what the API saw:
`sendMessage` (a new message in the chat) against `editMessageText` (the same
message changed), and every message or button press of the resident.
"""

from __future__ import annotations

from typing import Any

import pytest

from storage import surveys
from tests.e2e.conftest import LiveBot
from tests.e2e.survey_driver import answer_survey
from tests.e2e.test_survey import DURING_DIAGNOSIS, OUTRO, consent
from tests.harness import said

SLUG = "diagnoza-2021"
NEW = ("sendMessage", "sendDocument", "sendPhoto")


@pytest.fixture
def diagnosis_bot(live_bot: LiveBot) -> LiveBot:
    live_bot.service.services.clock = lambda: DURING_DIAGNOSIS
    return live_bot


def labels(message: dict[str, Any]) -> list[list[str]]:
    return [[b["text"] for b in row] for row in message.get("buttons") or []]


def question(bot: LiveBot, user_id: int) -> dict[str, Any]:
    """The latest question as the chat shows it now (edits applied)."""
    return next(m for m in reversed(bot.api.sent(user_id)) if m["text"].startswith("Pytanie "))


async def tap(bot: LiveBot, user_id: int, label: str) -> dict[str, Any]:
    """Press the button labelled exactly `label` (ticks aside) on the latest question."""
    shown = question(bot, user_id)
    [button] = [
        b
        for row in shown["buttons"]
        for b in row
        if b["text"].replace("✅", "").replace("▫️", "").strip() == label
    ]
    already = len(bot.api.sent(user_id))
    bot.api.push_callback(user_id, button["callback_data"])
    [reply] = await bot.replies(user_id, already, 1)
    return reply


async def rate(bot: LiveBot, user_id: int, item: str, value: str) -> dict[str, Any]:
    """Press `value` in the row under the matrix item labelled `item`."""
    shown = question(bot, user_id)
    rows = shown["buttons"]
    at = next(k for k, row in enumerate(rows) if row[0]["text"] == item)
    [cell] = [b for b in rows[at + 1] if b["text"].replace("✅", "") == value]
    already = len(bot.api.sent(user_id))
    bot.api.push_callback(user_id, cell["callback_data"])
    [reply] = await bot.replies(user_id, already, 1)
    return reply


async def test_diagnosis_with_ordinary_answers_takes_few_messages_and_taps(
    diagnosis_bot: LiveBot,
) -> None:
    """One option per question, the leader path: at most 20 messages and 32 inputs."""
    await consent(diagnosis_bot, 8101)
    before = len(diagnosis_bot.api.sent(8101))
    await diagnosis_bot.say(8101, f"/survey {SLUG}", count=2)
    inputs = 1 + await answer_survey(diagnosis_bot, 8101, until=OUTRO)
    during = diagnosis_bot.api.sent(8101)[before:]
    new = [m for m in during if m["method"] in NEW]
    edits = [m for m in during if m["method"] == "editMessageText"]
    # The intro, one message per question (17 on the leader path), the thanks.
    assert len(new) <= 20 and inputs <= 32, (len(new), inputs)
    assert new[0]["text"].startswith("Diagnoza") and OUTRO in new[-1]["text"]
    questions = [m["text"].split("\n")[0] for m in new[1:-1]]
    assert questions == [f"Pytanie {n} z 17" for n in range(1, 18)]
    assert edits, "ticks and matrix rows edit the question in place"
    async with diagnosis_bot.service.store.transaction() as session:
        [response] = await surveys.all_responses(session, SLUG)
    # The same data as before: the attended event is rated, the new ideas all are.
    assert response.answers["udzial"] == {"choices": ["koncerty"]}
    assert response.answers["formy-obecne"] == {"koncerty": 1}
    assert len(response.answers["formy-nowe"]) == 8
    assert response.status == "finished"


async def test_diagnosis_grid_ticks_typing_and_corrections_in_place(
    diagnosis_bot: LiveBot,
) -> None:
    bot, user = diagnosis_bot, 8102
    await consent(bot, user)
    await bot.say(user, f"/survey {SLUG}", count=2)
    # A practised resident types the numbers of the options.
    [second] = await bot.say(user, "1, 3")
    assert second["method"] == "sendMessage" and second["text"].startswith("Pytanie 2 z 17")
    await tap(bot, user, "Zajęć dla dorosłych")
    await tap(bot, user, said("survey.done"))
    # Attendance: "none of them" cannot go with an event; ticks edit the message.
    ticked = await tap(bot, user, "Koncerty")
    assert ticked["method"] == "editMessageText"
    alone = await tap(bot, user, "Z żadnej z nich")
    assert ["✅ Z żadnej z nich"] in labels(alone) and ["▫️ Koncerty"] in labels(alone)
    [refused] = await bot.say(user, "1, 9")
    assert refused["text"] == said("flow.invalid.exclusive", number=9)
    await tap(bot, user, "Koncerty")
    both = await tap(bot, user, "Spektakle teatralne")
    assert ["▫️ Z żadnej z nich"] in labels(both) and ["✅ Koncerty"] in labels(both)
    grid = await tap(bot, user, said("survey.done"))
    # Only what was attended is rated: one message, a label row and a value row each.
    assert grid["method"] == "sendMessage" and grid["text"].startswith("Pytanie 4 z 17")
    assert labels(grid)[0] == ["Koncerty"] and labels(grid)[2] == ["Spektakle teatralne"]
    assert labels(grid)[1] == ["1", "2", "3", "4", "5", "?"]
    assert [said("survey.done")] not in labels(grid)
    rated = await rate(bot, user, "Koncerty", "4")
    assert rated["method"] == "editMessageText" and "✅4" in labels(rated)[1]
    full = await rate(bot, user, "Spektakle teatralne", "?")
    assert "✅?" in labels(full)[3] and [said("survey.done")] in labels(full)
    new_ideas = await tap(bot, user, said("survey.done"))
    assert new_ideas["text"].startswith("Pytanie 5 z 17")
    # A whole grid typed at once; a wrong count changes nothing.
    [wrong] = await bot.say(user, "5 4 3")
    assert wrong["text"] == said("flow.invalid.grid_count", count=8, given=3)
    [barriers] = await bot.say(user, "5 4 3 ? 2 1 5 x")
    assert barriers["text"].startswith("Pytanie 6 z 17")
    # Back and forth edit the barriers' message; no new message appears.
    sent_before = len([m for m in bot.api.sent(user) if m["method"] == "sendMessage"])
    back = await tap(bot, user, said("survey.back"))
    assert back["method"] == "editMessageText" and back["text"].startswith("Pytanie 5 z 17")
    assert "✅5" in labels(back)[1]
    forth = await tap(bot, user, said("survey.done"))
    assert forth["method"] == "editMessageText" and forth["text"].startswith("Pytanie 6 z 17")
    sent_after = len([m for m in bot.api.sent(user) if m["method"] == "sendMessage"])
    assert sent_after == sent_before
    async with bot.service.store.transaction() as session:
        [response] = await surveys.all_responses(session, SLUG)
    assert response.answers["zainteresowania"] == {"choices": ["muzyka", "taniec"]}
    assert response.answers["udzial"] == {"choices": ["koncerty", "spektakle"]}
    assert response.answers["formy-obecne"] == {"koncerty": 4, "spektakle": None}
    assert response.answers["formy-nowe"]["gry-planszowe"] == 4
    assert response.answers["formy-nowe"]["warsztaty-foto"] is None
