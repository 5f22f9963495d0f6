"""SIGKILL while updates arrive: every update Telegram was told we have is handled
exactly once after a restart (polling and webhook), and a broadcast queued from the
CLI reaches each recipient once."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
import yaml
from sqlalchemy import func, insert, select

from storage import proposals
from storage.db import Store
from storage.models import InboundUpdate, Resident, ResidentQuestion
from tests.bot.test_config import run_cli
from tests.conftest import CONTENT, COORDINATOR_ID
from tests.e2e.conftest import LiveBot, wait_until
from tests.e2e.test_proposal import USER, fill
from tests.e2e.test_restart import BotProcess, bot_process  # noqa: F401 - fixture
from tests.e2e.test_survey_restart import outbox_settled
from tests.e2e.test_webhook import SECRET, update
from tests.fakes.telegram_api import FakeTelegramServer
from tests.handlers.contest.test_file_types import png
from tests.handlers.contest_fixture import SAMPLE
from tests.servers.ports import free_port

# Slow (a bot process killed and restarted): left out of `pytest -m "not slow"`.
pytestmark = pytest.mark.slow

FIRST = 810_000
COUNT = 40


async def seed_residents(url: str, count: int, *, subscribed: bool = False) -> None:
    """Residents who gave consent, so /ask and broadcasts reach them."""
    store = Store(url)
    now = datetime.now(UTC)
    async with store.transaction() as session:
        await session.execute(
            insert(Resident),
            [
                {
                    "telegram_id": FIRST + i,
                    "name": f"Mieszkaniec {i}",
                    "language": "pl",
                    "consent_given_at": now,
                    "subscribed": subscribed,
                    "blocked": False,
                    "created_at": now,
                }
                for i in range(count)
            ],
        )
    await store.close()


async def scalars(url: str, query) -> list:  # noqa: ANN001
    store = Store(url)
    try:
        async with store.transaction() as session:
            return list(await session.scalars(query))
    finally:
        await store.close()


def question(i: int) -> str:
    return f"Pytanie numer {i}: czy biblioteka jest otwarta w sobotę?"


def notices(api: FakeTelegramServer) -> Counter[str]:
    """How many coordinator notices quote each question."""
    counts: Counter[str] = Counter()
    for text in api.sent_texts(COORDINATOR_ID):
        for i in range(COUNT):
            if question(i) in text:
                counts[question(i)] += 1
    return counts


def hold_first_sends(api: FakeTelegramServer) -> None:
    """The killed run's sends are held until after the kill: what it sent would be
    an outbox message in flight (sent again after a restart, by design), which
    would blur what these tests count, the updates handled."""
    api.delay_next("sendMessage", 3, None, times=16)


def as_coordinated(process: BotProcess) -> None:
    process.env["COORDINATOR_IDS"] = str(COORDINATOR_ID)
    process.env["TELEGRAM_MESSAGES_PER_SECOND"] = "0"


async def test_burst_of_questions_killed_midway_each_handled_once(
    sqlite_url: str,
    fake_telegram: FakeTelegramServer,
    bot_process: BotProcess,  # noqa: F811
) -> None:
    api = fake_telegram
    await seed_residents(sqlite_url, COUNT)
    as_coordinated(bot_process)
    hold_first_sends(api)
    bot_process.start()
    await wait_until(lambda: api.calls("getUpdates"), timeout=30)
    for i in range(COUNT):
        api.push_message(FIRST + i, f"/ask {question(i)}")
    await asyncio.sleep(0.15)
    bot_process.kill()

    bot_process.start()
    expected = [question(i) for i in range(COUNT)]

    async def all_stored() -> bool:
        return len(await scalars(sqlite_url, select(ResidentQuestion.text))) >= COUNT

    await wait_until(all_stored, timeout=60)
    await wait_until(lambda: len(notices(api)) == COUNT, timeout=60)
    # Room for anything handled twice to show up before counting.
    await wait_until(lambda: api.pending_updates() == [], timeout=30)
    await asyncio.sleep(2.0)
    stored = Counter(await scalars(sqlite_url, select(ResidentQuestion.text)))
    assert stored == Counter(expected)
    assert notices(api) == Counter(expected)
    for i in range(COUNT):
        confirmations = [m for m in api.sent(FIRST + i)]
        assert len(confirmations) == 1, (i, confirmations)
    unhandled = await scalars(
        sqlite_url, select(func.count()).where(InboundUpdate.handled_at.is_(None))
    )
    assert unhandled == [0]


def webhook_env(process: BotProcess, port: int) -> None:
    process.env.update(
        {
            "TELEGRAM_MODE": "webhook",
            "WEBHOOK_URL": "https://bot.example.org/telegram",
            "WEBHOOK_SECRET": SECRET,
            "WEBHOOK_LISTEN": "127.0.0.1",
            "WEBHOOK_PORT": str(port),
        }
    )


async def post(url: str, body: str) -> int:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            url,
            data=body,
            headers={
                "Content-Type": "application/json",
                "X-Telegram-Bot-Api-Secret-Token": SECRET,
            },
        ) as response,
    ):
        return response.status


async def test_webhook_killed_right_after_its_200_handles_the_update_once(
    sqlite_url: str,
    fake_telegram: FakeTelegramServer,
    bot_process: BotProcess,  # noqa: F811
) -> None:
    api = fake_telegram
    port = free_port()
    webhook_env(bot_process, port)
    bot_process.env["TELEGRAM_MESSAGES_PER_SECOND"] = "0"
    hold_first_sends(api)
    bot_process.start()
    await wait_until(lambda: api.calls("setWebhook"), timeout=30)
    url = f"http://127.0.0.1:{port}/telegram"
    assert await post(url, "{not json") == 400
    assert await post(url, "[1, 2]") == 400
    assert await scalars(sqlite_url, select(InboundUpdate.id)) == []
    users = [FIRST + i for i in range(10)]
    for number, user in enumerate(users, start=1):
        assert await post(url, json.dumps(update(number, user, "/help"))) == 200
    bot_process.kill()

    bot_process.start()
    for user in users:
        await asyncio.to_thread(api.wait_for_sent, user, 1, 30)
    await asyncio.sleep(2.0)
    for user in users:
        [reply] = api.sent(user)
        assert "/start" in reply["text"]
    handled = await scalars(sqlite_url, select(InboundUpdate.handled_at))
    assert len(handled) == len(users) and None not in handled


async def test_broadcast_from_the_cli_killed_mid_delivery_reaches_each_once(
    sqlite_url: str,
    tmp_path: Path,
    fake_telegram: FakeTelegramServer,
    bot_process: BotProcess,  # noqa: F811
) -> None:
    api = fake_telegram
    count = 600
    text = "Zapraszamy na koncert w sobotę!"
    await seed_residents(sqlite_url, count, subscribed=True)
    bot_process.env["TELEGRAM_MESSAGES_PER_SECOND"] = "0"
    bot_process.start()
    await wait_until(lambda: api.calls("getUpdates"), timeout=30)

    def delivered() -> Counter[int]:
        return Counter(
            int(m["chat_id"]) for m in api.sent(method="sendMessage") if m["text"] == text
        )

    result = await asyncio.to_thread(
        run_cli,
        tmp_path,
        "broadcast",
        "send",
        "--text",
        text,
        DATABASE_URL=sqlite_url,
        DATA_DIR=bot_process.env["DATA_DIR"],
    )
    assert result.returncode == 0, result.stderr
    await wait_until(lambda: len(delivered()) >= 50, timeout=30)
    # From now on the server holds the sends (as in test_broadcast_restart), so the
    # kill lands while they are in flight, not between a delivery and its record.
    api.delay_next("sendMessage", 3, None, times=8)
    await asyncio.sleep(1.0)
    bot_process.kill()
    assert len(delivered()) < count

    bot_process.start()
    await wait_until(lambda: len(delivered()) == count, timeout=120)
    await asyncio.sleep(2.0)
    counts = delivered()
    assert set(counts) == {FIRST + i for i in range(count)}
    assert set(counts.values()) == {1}


def sample_content(tmp_path: Path) -> Path:
    """The shipped content with the small flow-test contest, open now."""
    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    contest = {**SAMPLE, "closes": "2099-12-31 23:59"}
    (content / "contest.yaml").write_text(yaml.safe_dump(contest, allow_unicode=True))
    return content


async def test_attachment_download_killed_midway_is_fetched_again_and_stored_once(
    sqlite_url: str,
    tmp_path: Path,
    fake_telegram: FakeTelegramServer,
    bot_process: BotProcess,  # noqa: F811
) -> None:
    api = fake_telegram
    bot_process.env["CONTENT_DIR"] = str(sample_content(tmp_path))
    bot_process.env["TELEGRAM_MESSAGES_PER_SECOND"] = "0"
    bot_process.start()
    chat = LiveBot(None, api)  # type: ignore[arg-type] # only the fake API is used
    await fill(chat)
    await chat.say(USER, "Poczęstunek – 500")
    await chat.press(USER, "Gotowe – budżet")
    await wait_until(lambda: outbox_settled(sqlite_url), timeout=10)
    already = len(api.sent(USER))
    api.push_document(USER, "skan.pdf", png(), "application/pdf")
    # The bot is killed while it downloads the file.
    api.slow_download("skan.pdf", 5)
    await wait_until(lambda: api.downloads("skan.pdf") == 1, timeout=30)
    await asyncio.sleep(0.5)
    bot_process.kill()
    assert len(api.sent(USER)) == already

    bot_process.start()
    saved = await chat.replies(USER, already, 2)
    assert "Zapisano załącznik skan.png" in "\n".join(m["text"] or "" for m in saved)
    assert api.downloads("skan.pdf") == 2
    await asyncio.sleep(1.0)
    assert sum("Zapisano załącznik" in (m["text"] or "") for m in api.sent(USER)) == 1
    store = Store(sqlite_url)
    async with store.transaction() as session:
        [proposal] = list(await session.scalars(select(proposals.Proposal)))
        [attachment] = await proposals.attachments(session, proposal.id)
    await store.close()
    assert (attachment.name, attachment.mime_type) == ("skan.png", "image/png")
    data_dir = Path(bot_process.env["DATA_DIR"])
    assert (data_dir / attachment.path).read_bytes() == png()
