"""The running bot hears the CLI: a broadcast queued by `lokalnie broadcast send` in
another process is delivered without waiting for the periodic replan (every 5 minutes),
and one cancelled by `lokalnie broadcast cancel` leaves the bot's plan."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from bot.cli_support import cli_text
from storage import schedule
from storage.models import Resident
from tests.bot.test_config import run_cli
from tests.e2e.conftest import LiveBot, wait_until

SUBSCRIBER = 770_001
TEXT = "Jutro kino plenerowe w parku!"


async def subscribe(bot: LiveBot) -> None:
    now = datetime.now(UTC)
    async with bot.service.store.transaction() as session:
        await session.execute(
            insert(Resident).values(
                telegram_id=SUBSCRIBER,
                name="Ola",
                language="pl",
                consent_given_at=now,
                subscribed=True,
                blocked=False,
                created_at=now,
            )
        )


async def newest_broadcast(bot: LiveBot) -> int:
    async with bot.service.store.transaction() as session:
        return (await schedule.broadcasts(session))[-1].id


async def cli(bot: LiveBot, tmp_path: Path, *args: str) -> str:
    """`python -m bot ARGS` in another process, on the bot's store; its stdout."""
    settings = bot.service.settings
    result = await asyncio.to_thread(
        run_cli,
        tmp_path,
        *args,
        DATABASE_URL=settings.database_url,
        DATA_DIR=str(settings.data_dir),
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


async def test_broadcast_sent_from_the_cli_reaches_the_running_bot(
    live_bot: LiveBot, tmp_path: Path
) -> None:
    await subscribe(live_bot)
    # Let the scheduler's first plan pass: from now on only the CLI's change wakes it.
    await asyncio.sleep(1)
    said = await cli(live_bot, tmp_path, "broadcast", "send", "--text", TEXT)
    number = await newest_broadcast(live_bot)
    assert said.strip() == cli_text("cli.broadcast_queued_now", number=number, count=1)

    def delivered() -> bool:
        return any(m["text"] == TEXT for m in live_bot.api.sent(SUBSCRIBER))

    # A failure bound, far below the 5-minute periodic replan.
    await wait_until(delivered, timeout=10)


async def test_broadcast_cancelled_from_the_cli_leaves_the_running_plan(
    live_bot: LiveBot, tmp_path: Path
) -> None:
    await subscribe(live_bot)
    said = await cli(
        live_bot, tmp_path, "broadcast", "send", "--text", TEXT, "--at", "01.06.2099 18:00"
    )
    number = await newest_broadcast(live_bot)
    assert said.strip() == cli_text(
        "cli.broadcast_queued_at",
        number=number,
        count=1,
        when="01.06.2099 18:00",
        zone="Europe/Warsaw",
    )
    job = f"broadcast:{number}"

    def planned() -> set[str]:
        scheduler = live_bot.service.scheduler
        return {job_id for job_id, _ in scheduler.scheduled()} if scheduler else set()

    await wait_until(lambda: job in planned(), timeout=10)
    said = await cli(live_bot, tmp_path, "broadcast", "cancel", str(number))
    assert said.strip() == cli_text("cli.broadcast_cancelled", number=number, count=0)
    await wait_until(lambda: job not in planned(), timeout=10)
    assert live_bot.api.sent(SUBSCRIBER) == []
