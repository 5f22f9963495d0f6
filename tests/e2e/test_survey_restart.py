"""SIGKILL of the running bot in the middle of a survey: the resident resumes where they were."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from storage import surveys
from storage.db import Store
from storage.models import OutboxMessage
from tests.e2e.conftest import wait_until
from tests.e2e.test_restart import BotProcess, bot_process  # noqa: F401 - fixture
from tests.fakes.telegram_api import FakeTelegramServer

# Slow (a bot process killed and restarted): left out of `pytest -m "not slow"`.
pytestmark = pytest.mark.slow

USER = 7101


async def next_reply(api: FakeTelegramServer, push, count: int = 1) -> list[dict]:  # noqa: ANN001
    already = len(api.sent(USER))
    push()
    sent = await asyncio.to_thread(api.wait_for_sent, USER, already + count, 30)
    return sent[already:]


def press(api: FakeTelegramServer, label: str):  # noqa: ANN201
    for message in reversed(api.sent(USER)):
        for row in message.get("buttons") or []:
            for button in row:
                if label in button["text"]:
                    return lambda: api.push_callback(USER, button["callback_data"])
    raise AssertionError(f"no button {label!r}")


async def outbox_settled(url: str) -> bool:
    store = Store(url)
    try:
        async with store.transaction() as session:
            waiting = await session.scalar(
                select(func.count()).where(OutboxMessage.status.in_(["pending", "sending"]))
            )
    finally:
        await store.close()
    return waiting == 0


async def test_survey_resumes_after_sigkill_at_the_first_unanswered_question(
    sqlite_url: str,
    fake_telegram: FakeTelegramServer,
    bot_process: BotProcess,  # noqa: F811
) -> None:
    api = fake_telegram
    bot_process.start()
    await next_reply(api, lambda: api.push_message(USER, "/start"), 1)
    await next_reply(api, press(api, "Tak, zgadzam"), 2)
    intro, first = await next_reply(api, lambda: api.push_message(USER, "/survey"), 2)
    assert "Jak było?" in intro["text"] and first["text"].startswith("Pytanie 1 z")
    [second] = await next_reply(api, press(api, "5"))
    [third] = await next_reply(api, lambda: api.push_message(USER, "Świetna muzyka"))
    assert third["text"].startswith("Pytanie 3 z")
    # Killed once the reply is recorded as sent: a kill inside the one API call
    # in flight may repeat that message (Telegram has no idempotency key).
    await wait_until(lambda: outbox_settled(sqlite_url), timeout=10)
    bot_process.kill()

    bot_process.start()
    resumed = await next_reply(api, lambda: api.push_message(USER, "/survey"), 2)
    assert "Wracamy do ankiety" in resumed[0]["text"]
    assert resumed[1]["text"] == third["text"]
    assert [m["text"] for m in api.sent(USER)].count(third["text"]) == 2
    store = Store(sqlite_url)
    async with store.transaction() as session:
        [response] = await surveys.all_responses(session, "ewaluacja")
    await store.close()
    assert response.status == "started"
    assert response.answers == {"ocena": 5, "co-sie-podobalo": "Świetna muzyka"}
