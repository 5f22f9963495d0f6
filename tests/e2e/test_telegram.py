"""A resident in Telegram, end to end: fake Bot API -> PTB -> handlers -> store -> outbox."""

from __future__ import annotations

import json

from sqlalchemy import select

from storage.models import Event, OutboxMessage
from tests.conftest import COORDINATOR_ID
from tests.e2e.conftest import LiveBot, wait_until


async def consent(bot: LiveBot, user_id: int) -> None:
    await bot.say(user_id, "/start")
    await bot.press(user_id, "Tak, zgadzam", count=2)


async def test_start_consent_in_telegram_stores_resident(live_bot: LiveBot) -> None:
    [screen] = await live_bot.say(5001, "/start", first_name="Zofia")
    assert "Dzień dobry" in screen["text"]
    assert len(screen["text"]) < 600
    [clause] = await live_bot.press(5001, "Pełna informacja")
    assert "Administrator" in clause["text"]
    assert await live_bot.resident(5001) is None
    thanks, offer = await live_bot.press(5001, "Tak, zgadzam", count=2)
    assert "Dziękujemy" in thanks["text"]
    assert offer["buttons"]
    assert [c["data"] for c in live_bot.api.answered_callbacks()] == [
        "consent:clause:pl",
        "consent:pl:yes",
    ]
    resident = await live_bot.resident(5001)
    assert resident is not None and resident.name == "Zofia"
    assert resident.consent_given_at is not None


async def test_typed_tak_in_telegram_agrees_and_the_menu_follows_the_news_answer(
    live_bot: LiveBot,
) -> None:
    await live_bot.say(5006, "/start")
    thanks, offer = await live_bot.say(5006, "Tak", count=2)
    assert "Dziękujemy" in thanks["text"]
    assert offer["buttons"]
    [news] = await live_bot.say(5006, "nie")
    labels = [b["text"] for row in news["buttons"] for b in row]
    assert any("Zadaj pytanie" in label for label in labels)
    resident = await live_bot.resident(5006)
    assert resident is not None and resident.has_consent and not resident.subscribed


async def test_language_in_telegram_switches_to_english(live_bot: LiveBot) -> None:
    await consent(live_bot, 5002)
    await live_bot.say(5002, "/language")
    [changed] = await live_bot.press(5002, "English")
    assert changed["text"] == "Language set to English."
    [help_] = await live_bot.say(5002, "/help")
    assert "Here is what you can do" in help_["text"]
    resident = await live_bot.resident(5002)
    assert resident is not None and resident.language == "en"


async def test_mydata_in_telegram_arrives_as_json_document(live_bot: LiveBot) -> None:
    await consent(live_bot, 5003)
    [document] = await live_bot.say(5003, "/mydata")
    assert document["method"] == "sendDocument"
    assert document["filename"] == "mydata.json"
    data = json.loads(document["content"])
    assert data["profile"]["telegram_id"] == 5003
    assert data["profile"]["name"] == "Anna"


async def test_forget_in_telegram_erases_the_resident(live_bot: LiveBot) -> None:
    await consent(live_bot, 5004)
    await live_bot.say(5004, "/forget")
    [done] = await live_bot.press(5004, "Tak, usuń")
    assert "usunięte" in done["text"]
    assert await live_bot.resident(5004) is None
    [answer] = await live_bot.say(5004, "/mydata")
    assert "Nie przechowujemy" in answer["text"]


async def test_unexpected_input_in_telegram_gets_short_answers(live_bot: LiveBot) -> None:
    await consent(live_bot, 5005)
    api = live_bot.api

    async def next_reply(push) -> str:  # noqa: ANN001
        already = len(api.sent(5005))
        push()
        [reply] = await live_bot.replies(5005, already, 1)
        return reply["text"]

    assert "nie potrafię" in await next_reply(lambda: api.push_sticker(5005))
    assert "nie potrafię" in await next_reply(lambda: api.push_photo(5005))
    assert "za długa" in await next_reply(lambda: api.push_message(5005, "ą" * 10_000))
    assert "Nie znam" in await next_reply(lambda: api.push_message(5005, "/abrakadabra"))
    assert "nieaktualny" in await next_reply(lambda: api.push_callback(5005, "survey:q1:2"))
    resident = await live_bot.resident(5005)
    assert resident is not None and resident.has_consent


async def test_admin_from_non_coordinator_in_telegram_is_refused(live_bot: LiveBot) -> None:
    [refusal] = await live_bot.say(5006, "/admin")
    assert "tylko dla koordynatorów" in refusal["text"]
    [panel] = await live_bot.say(COORDINATOR_ID, "/admin")
    assert "Panel koordynatora" in panel["text"]
    async with live_bot.service.store.transaction() as session:
        refused = list(await session.scalars(select(Event).where(Event.kind == "admin_refused")))
    assert [e.data["user_id"] for e in refused] == [5006]


async def test_command_menu_is_set_in_polish_and_english(live_bot: LiveBot) -> None:
    polish = {c["command"]: c["description"] for c in live_bot.api.commands("pl")}
    english = {c["command"]: c["description"] for c in live_bot.api.commands("en")}
    assert set(polish) == set(english) >= {"start", "help", "language", "mydata", "forget"}
    assert "admin" not in polish
    assert polish["forget"] == "usuń swoje dane"
    assert english["forget"] == "erase your data"
    scoped = live_bot.api.all_commands()
    assert any(
        "admin" in {c["command"] for c in commands} and str(COORDINATOR_ID) in str(key)
        for key, commands in scoped.items()
    )


async def test_retry_after_delays_the_message_and_sends_it_once(live_bot: LiveBot) -> None:
    live_bot.api.fail_next("sendMessage", 5007, code=429, retry_after=1)
    [help_] = await live_bot.say(5007, "/help")
    assert "/start" in help_["text"]
    failed = [c for c in live_bot.api.sent(5007, include_failed=True) if not c["ok"]]
    assert [c["error_code"] for c in failed] == [429]
    assert help_["time"] - failed[0]["time"] >= 0.9
    assert len(live_bot.api.sent(5007)) == 1


async def test_blocked_bot_marks_resident_blocked(live_bot: LiveBot) -> None:
    await consent(live_bot, 5008)
    live_bot.api.fail_next("sendMessage", 5008, code=403)
    live_bot.api.push_message(5008, "/help")

    async def blocked() -> bool:
        resident = await live_bot.resident(5008)
        return resident is not None and resident.blocked

    await wait_until(blocked)
    async with live_bot.service.store.transaction() as session:
        statuses = set(await session.scalars(select(OutboxMessage.status)))
    assert "failed" in statuses
    # Writing again means the resident unblocked the bot.
    await live_bot.say(5008, "/help")
    resident = await live_bot.resident(5008)
    assert resident is not None and not resident.blocked
