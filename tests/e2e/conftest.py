"""The real PTB Application, in polling mode, against the fake Bot API on loopback."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import Service
from storage.models import Resident
from tests.conftest import make_settings
from tests.fakes.telegram_api import FakeTelegramServer

TOKEN = "123456:TEST-TOKEN"


@dataclass
class LiveBot:
    service: Service
    api: FakeTelegramServer

    async def say(self, user_id: int, text: str, count: int = 1, **values: Any) -> list[dict]:
        """Send a message as the user and wait for `count` new bot messages to them."""
        already = len(self.api.sent(user_id))
        self.api.push_message(user_id, text, **values)
        return await self.replies(user_id, already, count)

    async def press(self, user_id: int, label: str, count: int = 1) -> list[dict]:
        """Press the button whose label contains `label` on the latest message showing it."""
        for message in reversed(self.api.sent(user_id)):
            for row in message.get("buttons") or []:
                for button in row:
                    if label.lower() in button["text"].lower():
                        already = len(self.api.sent(user_id))
                        self.api.push_callback(user_id, button["callback_data"])
                        return await self.replies(user_id, already, count)
        raise AssertionError(f"no button like {label!r}")

    async def replies(self, user_id: int, already: int, count: int) -> list[dict]:
        sent = await self.api.await_sent(user_id, already + count, timeout=15)
        return sent[already:]

    async def resident(self, telegram_id: int) -> Resident | None:
        async with self.service.store.transaction() as session:
            return await session.scalar(select(Resident).where(Resident.telegram_id == telegram_id))


async def wait_until(condition: Any, timeout: float = 10.0) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.05)


@pytest.fixture
def live_bot_settings() -> dict[str, object]:
    """Extra settings for `live_bot`; a test module overrides this fixture to change them."""
    return {}


@pytest.fixture
async def live_bot(
    database_url: str,
    tmp_path: Path,
    fake_telegram: FakeTelegramServer,
    live_bot_settings: dict[str, object],
) -> AsyncIterator[LiveBot]:
    settings = make_settings(
        database_url,
        tmp_path,
        telegram_bot_token=TOKEN,
        telegram_api_base_url=fake_telegram.base_url,
        telegram_messages_per_second=0,
        **live_bot_settings,
    )
    service = Service(settings)
    await service.prepare()
    stop = asyncio.Event()
    task = asyncio.create_task(service.run_telegram(stop))
    # The poller deletes any webhook first; updates pushed after that are fetched.
    await wait_until(lambda: fake_telegram.calls("deleteWebhook") or task.done())
    if task.done():
        task.result()
    try:
        yield LiveBot(service, fake_telegram)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=15)
        await service.close()
