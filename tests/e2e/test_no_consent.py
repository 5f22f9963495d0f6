"""Declining consent in Telegram leaves no row that carries the person's Telegram id."""

from __future__ import annotations

from sqlalchemy import select

from storage.registry import metadata
from tests.e2e.conftest import LiveBot, wait_until

# Unlikely to appear by chance in any other column (ids, times, counters).
DECLINER = 731_904_286


async def dump(bot: LiveBot) -> str:
    """Every row of every table, as text."""
    lines = []
    async with bot.service.store.transaction() as session:
        for table in metadata.sorted_tables:
            for row in (await session.execute(select(table))).all():
                lines.append(f"{table.name}: {tuple(row)!r}")
    return "\n".join(lines)


async def test_declining_consent_keeps_nothing_with_the_telegram_id(live_bot: LiveBot) -> None:
    await live_bot.say(DECLINER, "/start")
    await live_bot.say(DECLINER, "/language")
    await live_bot.press(DECLINER, "English", count=2)
    [goodbye] = await live_bot.press(DECLINER, "No", count=1)
    assert goodbye["text"]

    async def nothing_left() -> bool:
        return str(DECLINER) not in await dump(live_bot)

    try:
        await wait_until(nothing_left)
    except TimeoutError:
        found = [line for line in (await dump(live_bot)).splitlines() if str(DECLINER) in line]
        raise AssertionError(f"the Telegram id is still stored: {found}") from None
    assert await live_bot.resident(DECLINER) is None
