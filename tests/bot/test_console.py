"""The terminal channel: each `lokalnie chat` session is one person's chat on a
shared store, and coordinators' notices reach the coordinator's own session."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable

from bot.app import Service
from bot.config import Settings
from tests.conftest import COORDINATOR_ID

RESIDENT = 4242
QUESTION = "Czy sala widowiskowa jest wolna w sobotę?"


def typed(*lines: str) -> Callable[[], Awaitable[str | None]]:
    """What a person types, line by line, then the end of input."""
    queue = list(lines)

    async def read_line() -> str | None:
        return queue.pop(0) if queue else None

    return read_line


async def session(settings: Settings, user_id: int, *lines: str, coordinator: bool = False) -> str:
    """One `lokalnie chat` run: what its terminal showed."""
    out = io.StringIO()
    service = Service(settings)
    try:
        await service.run_console(
            user_id=user_id, coordinator=coordinator, out=out, read_line=typed(*lines)
        )
    finally:
        await service.close()
    return out.getvalue()


async def test_console_resident_question_reaches_the_coordinators_terminal_session(
    settings: Settings,
) -> None:
    resident = await session(settings, RESIDENT, "/start", "1", f"/ask {QUESTION}")
    assert "Pytanie trafiło do ośrodka" in resident
    assert "Pytanie od:" not in resident  # not shown on the resident's screen

    coordinator = await session(settings, COORDINATOR_ID, "1", "Tak, zapraszamy.", coordinator=True)
    assert "Pytanie od:" in coordinator and QUESTION in coordinator

    # The answer goes back to the terminal the question came from.
    later = await session(settings, RESIDENT)
    assert "Tak, zapraszamy." in later
