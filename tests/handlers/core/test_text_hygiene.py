"""Every text from a resident is cleaned once, where its event is made (handlers/core/text.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import Service
from handlers.core.events import Inbound, IncomingFile, Kind
from handlers.core.text import clean_text
from storage.models import Resident
from tests.conftest import make_settings
from tests.harness import ChatHarness, texts

CLEANED = [
    ("plain", "Dzień dobry", "Dzień dobry"),
    ("NUL inside", "Ania\x00", "Ania"),
    ("NUL only", "\x00", ""),
    ("other controls", "a\x01b\x07c\x1bd\x7fe\x85f", "abcdef"),
    ("newline and tab kept", "one\n\ttwo", "one\n\ttwo"),
    ("CRLF becomes LF", "one\r\ntwo\rthree", "one\ntwo\nthree"),
    ("NFC", "Zo\u0301s\u0301ka", "Zóśka"),
    ("zero-width space only", "\u200b", ""),
    ("invisible mix only", "\ufeff \u200b\u200c\u200d\u2060\u00ad\n", ""),
    ("Hangul filler only", "\u3164", ""),
    ("blank only", " \t\n", ""),
    ("zero-width kept inside text", "a\u200bb", "a\u200bb"),
    ("emoji with joiner", "\U0001f468\u200d\U0001f469", "\U0001f468\u200d\U0001f469"),
    ("lone surrogate", "ok\ud800", "ok"),
]


@pytest.mark.parametrize(
    ("raw", "expected"), [(r, e) for _, r, e in CLEANED], ids=[name for name, _, _ in CLEANED]
)
def test_clean_text(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


def test_every_text_of_an_event_is_cleaned_where_it_is_made() -> None:
    event = Inbound(
        channel="telegram",
        chat_id="1",
        kind=Kind.FILE,
        text="caption\x00",
        args="a\x00b",
        display_name="\u200b",
        file=IncomingFile("ref", name="plan\x00.pdf"),
    )
    assert event.text == "caption"
    assert event.args == "ab"
    assert event.display_name is None
    assert event.file is not None and event.file.name == "plan.pdf"


@pytest.fixture
async def store_harness(database_url: str, tmp_path: Path) -> AsyncIterator[ChatHarness]:
    service = Service(make_settings(database_url, tmp_path))
    try:
        yield ChatHarness(service)
    finally:
        await service.close()


async def test_name_with_nul_does_not_block_consent(store_harness: ChatHarness) -> None:
    anna = store_harness.person(301, name="An\x00na")
    await anna.send("/start")
    replies = await anna.press("Tak, zgadzam")
    assert "Dziękujemy" in texts(replies)
    async with store_harness.service.store.transaction() as session:
        [resident] = list(await session.scalars(select(Resident)))
    assert resident.name == "Anna"


async def test_question_with_nul_is_taken_and_invisible_one_is_not(
    store_harness: ChatHarness,
) -> None:
    anna = store_harness.person(302)
    await anna.send("/start")
    await anna.press("Tak, zgadzam")
    await anna.send("/ask")
    invisible = await anna.send("\u200b\ufeff")
    assert "Napisz pytanie tekstem" in texts(invisible), texts(invisible)
    taken = await anna.send("Czy jest\x00 sala?")
    assert "Pytanie trafiło do ośrodka" in texts(taken)
