"""The terminal channel: each `lokalnie chat` session is one person's chat on a
shared store, and coordinators' notices reach the coordinator's own session."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.app import Service
from bot.config import Settings
from bot.console import ConsoleTransport
from handlers.core.events import OutgoingFile, Reply
from handlers.core.replies import to_payload
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
    assert "Pytanie trafiło do koordynatora" in resident
    assert "Pytanie od mieszkańca" not in resident  # not shown on the resident's screen

    coordinator = await session(settings, COORDINATOR_ID, "1", "Tak, zapraszamy.", coordinator=True)
    assert "Pytanie od mieszkańca" in coordinator and QUESTION in coordinator

    # The answer goes back to the terminal the question came from.
    later = await session(settings, RESIDENT)
    assert "Tak, zapraszamy." in later


async def test_console_shows_an_album_as_its_saved_files(tmp_path: Path) -> None:
    out = io.StringIO()
    transport = ConsoleTransport(out, tmp_path / "pobrane")
    pictures = [
        OutgoingFile(f"wykres-{n}.png", "image/png", b"\x89PNG" + bytes([n])) for n in (1, 2)
    ]
    report = OutgoingFile("raport.html", "text/html", b"<html></html>")
    await transport.deliver(str(RESIDENT), to_payload(Reply("Wykresy (2)", album=pictures)))
    await transport.deliver(str(RESIDENT), to_payload(Reply("Raport", file=report)))
    shown = out.getvalue()
    assert "Wykresy (2)" in shown
    for file in [*pictures, report]:
        path = tmp_path / "pobrane" / file.name
        assert f"-> {path}" in shown and path.read_bytes() == file.content
    assert shown.index("wykres-1.png") < shown.index("wykres-2.png") < shown.index("raport.html")
