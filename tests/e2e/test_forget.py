"""/forget in Telegram: after a question with a phone number and a coordinator's answer,
the person's name, phone, question and Telegram id are nowhere in the store."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import OutboxMessage
from tests.conftest import COORDINATOR_ID
from tests.e2e.conftest import LiveBot, wait_until
from tests.handlers.privacy.dump import dump_folder, dump_store, where

USER = 6_204_817_395
NAME = "Teofila Znacznikowa"
PHONE = "512 804 376"
QUESTION = f"Czy w sobotę jest otwarta biblioteka? Mój numer: {PHONE}"
ANSWER = "Tak, w soboty od dziesiątej do czternastej"


async def test_forget_in_telegram_leaves_no_trace_of_the_person(live_bot: LiveBot) -> None:
    api = live_bot.api
    await live_bot.say(USER, "/start", first_name=NAME)
    await live_bot.press(USER, "Tak, zgadzam", count=2)
    await live_bot.press(USER, "Tak, chcę")
    await live_bot.say(USER, "/ask")
    await live_bot.say(USER, QUESTION)
    await api.await_sent(COORDINATOR_ID, 1, timeout=15)
    assert any(PHONE in text for text in api.sent_texts(COORDINATOR_ID))
    await live_bot.press(COORDINATOR_ID, "Odpowiedz")
    already = len(api.sent(USER))
    await live_bot.say(COORDINATOR_ID, ANSWER)
    [answer] = await live_bot.replies(USER, already, 1)
    assert ANSWER in answer["text"]

    await live_bot.say(USER, "/forget")
    [done] = await live_bot.press(USER, "Tak, usuń")
    assert "usunięte" in done["text"]

    async def goodbye_row_gone() -> bool:
        async with live_bot.service.store.transaction() as session:
            rows = await session.scalars(select(OutboxMessage.recipient))
            return str(USER) not in set(rows)

    # The goodbye's row goes once Telegram has taken the message.
    await wait_until(goodbye_row_gone)
    store = await dump_store(live_bot.service.store)
    folder = dump_folder(live_bot.service.settings.data_dir)
    for marker in (NAME, PHONE, QUESTION, ANSWER, str(USER)):
        assert where(marker, store, folder) == set(), marker
