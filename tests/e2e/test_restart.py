"""Kill -9 the real `lokalnie run` and restart it: nothing lost, nothing sent twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from storage import outbox
from storage.db import Store
from storage.models import OutboxMessage
from tests.conftest import CONTENT, ROOT
from tests.e2e.conftest import TOKEN, wait_until
from tests.fakes.telegram_api import FakeTelegramServer

# Slow (a bot process killed and restarted): left out of `pytest -m "not slow"`.
pytestmark = pytest.mark.slow

CHAT = 7001
TEXT = "Przypomnienie: jutro mija termin ankiety."


class BotProcess:
    """`python -m bot run` as a child process, as an operator would start it."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env = env
        self.cwd = cwd
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            env=self.env,
            cwd=self.cwd,
            stdout=subprocess.DEVNULL,
            stderr=(self.cwd / "bot.log").open("ab"),
        )

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


@pytest.fixture
def bot_process(
    sqlite_url: str, tmp_path: Path, fake_telegram: FakeTelegramServer
) -> Iterator[BotProcess]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))},
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": fake_telegram.base_url,
        "DATABASE_URL": sqlite_url,
        "CONTENT_DIR": str(CONTENT),
        "DATA_DIR": str(tmp_path / "data"),
        "PYTHONPATH": str(ROOT),
    }
    process = BotProcess(env, tmp_path)
    yield process
    if process.alive():
        process.kill()


async def message_row(url: str) -> OutboxMessage:
    store = Store(url)
    try:
        async with store.transaction() as session:
            row = await session.scalar(
                select(OutboxMessage).where(OutboxMessage.idempotency_key == "restart-test")
            )
            assert row is not None
            return row
    finally:
        await store.close()


def delivered(api: FakeTelegramServer) -> list[str]:
    return [m["text"] for m in api.sent(CHAT) if m["text"] == TEXT]


async def test_outbox_message_survives_sigkill_and_is_sent_exactly_once(
    sqlite_url: str, fake_telegram: FakeTelegramServer, bot_process: BotProcess
) -> None:
    store = Store(sqlite_url)
    async with store.transaction() as session:
        await outbox.enqueue(
            session,
            channel="telegram",
            recipient=str(CHAT),
            payload={"text": TEXT},
            idempotency_key="restart-test",
        )
    await store.close()

    # 1. Telegram says "wait 3 s"; the process is killed while the message waits.
    fake_telegram.fail_next("sendMessage", CHAT, code=429, retry_after=3)
    bot_process.start()
    await wait_until(
        lambda: any(not c["ok"] for c in fake_telegram.sent(CHAT, include_failed=True)),
        timeout=30,
    )
    await asyncio.sleep(0.3)  # let it write down the postponement
    bot_process.kill()
    assert delivered(fake_telegram) == []
    assert (await message_row(sqlite_url)).status == "pending"

    # 2. Restarted, it delivers the message once the wait is over.
    bot_process.start()
    await asyncio.to_thread(fake_telegram.wait_for_sent, CHAT, 1, 30)

    async def recorded_as_sent() -> bool:
        return (await message_row(sqlite_url)).status == "sent"

    await wait_until(recorded_as_sent, timeout=10)
    bot_process.kill()

    # 3. Killed and restarted again: it serves residents and does not send it again.
    bot_process.start()
    fake_telegram.push_message(CHAT, "/help")
    sent = await asyncio.to_thread(fake_telegram.wait_for_sent, CHAT, 2, 30)
    assert "/start" in sent[-1]["text"]
    await asyncio.sleep(1.0)
    assert delivered(fake_telegram) == [TEXT]
    row = await message_row(sqlite_url)
    assert row.status == "sent" and row.attempts == 2
