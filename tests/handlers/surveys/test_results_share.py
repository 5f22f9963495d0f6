"""Sharing survey results with subscribers: preview, interim step, picked open answers only.

What a subscriber gets is read from the outbox rows the broadcast job writes
for them, i.e. what the sender delivers.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from handlers.core.replies import from_payload
from scheduler.jobs import execute
from scheduler.runtime import JobRuntime
from storage.models import OutboxMessage
from storage.schedule import Broadcast
from tests.conftest import COORDINATOR_ID
from tests.handlers.survey_fixture import sample_survey
from tests.handlers.surveys.answering import answer_all
from tests.handlers.surveys.conftest import NOW
from tests.harness import ChatHarness, Person, said, texts

PHONE = "600 111 222"
EMAIL = "anna.tajna@example.pl"
IDEA = "Kino plenerowe nad jeziorem"
SECRET_IDEA = "Zadzwońcie do mnie wieczorem"
PERSONAL = ("600111222", "600 111 222", EMAIL, SECRET_IDEA)


@pytest.fixture
def harness(store_harness: ChatHarness) -> ChatHarness:
    return store_harness


async def resident_answers(harness: ChatHarness, user_id: int, idea: str) -> None:
    person = harness.person(user_id)
    await person.send("/start")
    await person.press("Tak, zgadzam")
    await person.press("Tak, chcę")  # news: a subscriber
    await person.send("/survey")
    typed = {"Telefon": PHONE, "E-mail": EMAIL, "pomysł": idea}
    await answer_all(person, until="Dziękujemy za udział", typed=typed)


async def two_answered(harness: ChatHarness, **changes: Any) -> Person:
    harness.service.services.surveys = {"probna": sample_survey(**changes)}
    await resident_answers(harness, 701, IDEA)
    await resident_answers(harness, 702, SECRET_IDEA)
    coordinator = harness.person(COORDINATOR_ID, coordinator=True)
    await coordinator.send("/results probna")
    return coordinator


async def broadcasts(harness: ChatHarness) -> list[Broadcast]:
    async with harness.service.store.transaction() as session:
        return list(await session.scalars(select(Broadcast)))


async def received(harness: ChatHarness, broadcast: Broadcast, user_id: int) -> str:
    """Run the broadcast job and return everything queued for one subscriber: the
    texts, and the report file as its HTML (what opening it shows, and more)."""
    run = JobRuntime(harness.service.store, harness.service.services, progress_every=0.01)
    job = asyncio.create_task(execute(run, "broadcast", str(broadcast.id), "share"))
    while not job.done():
        await asyncio.sleep(0.01)
        async with harness.service.store.transaction() as session:
            await session.execute(
                OutboxMessage.__table__.update()
                .where(OutboxMessage.broadcast_id == broadcast.id)
                .values(status="sent")
            )
    async with harness.service.store.transaction() as session:
        rows = list(
            await session.scalars(
                select(OutboxMessage)
                .where(
                    OutboxMessage.broadcast_id == broadcast.id,
                    OutboxMessage.recipient == str(user_id),
                )
                .order_by(OutboxMessage.id)
            )
        )
    # One summary, one album of charts, one report file.
    summary, album, report = (from_payload(r.payload) for r in rows)
    assert not summary.file and not summary.album
    assert album.album and all(f.content[:8] == b"\x89PNG\r\n\x1a\n" for f in album.album)
    assert report.file is not None and report.file.mime_type == "text/html"
    html = report.file.content.decode()
    return "\n".join([summary.text, album.text, report.text, html])


async def test_open_survey_share_asks_interim_then_previews_and_cancel_sends_nothing(
    harness: ChatHarness,
) -> None:
    coordinator = await two_answered(harness)
    asked = await coordinator.press("Roześlij wyniki")
    assert "wciąż trwa" in texts(asked) and "cząstkowe" in texts(asked)
    assert await broadcasts(harness) == []
    assert "nic nie zostało wysłane" in texts(await coordinator.press("Nie, anuluj"))
    await coordinator.press("Roześlij wyniki")
    preview = await coordinator.press("pokaż podgląd wyników cząstkowych")
    shown = texts(preview)
    assert "dostaną 2 osoby" in shown and "Wyniki cząstkowe" in shown
    assert "Ile masz lat?" in shown and any(r.file for r in preview)
    # Open answers are listed for picking, none picked; personal answers are not even offered.
    assert f"☐ 1. {IDEA}" in shown and "☑" not in shown.split("Zaznaczone")[0]
    assert not any(p in shown for p in PERSONAL[:3])
    assert "nic nie zostało wysłane" in texts(await coordinator.press("Nie, anuluj"))
    assert await broadcasts(harness) == []


async def test_sent_results_carry_only_aggregates_and_the_picked_open_answer(
    harness: ChatHarness,
) -> None:
    coordinator = await two_answered(harness)
    await coordinator.press("Roześlij wyniki")
    await coordinator.press("pokaż podgląd")
    ticked = await coordinator.press("☐ 1")
    assert f"☑ 1. {IDEA}" in texts(ticked) and "☐ 2." in texts(ticked)
    assert said("broadcast.queued", number=1) in texts(await coordinator.press("Tak, roześlij"))
    [broadcast] = await broadcasts(harness)
    got = await received(harness, broadcast, 702)
    assert "Wyniki cząstkowe" in got and "Ile masz lat?" in got
    assert IDEA in got and "Wybrane odpowiedzi mieszkańców" in got
    for personal in PERSONAL:
        assert personal not in got
    assert "Telefon?" not in got and "E-mail?" not in got


async def test_closed_survey_goes_straight_to_preview_and_new_answers_force_a_new_one(
    harness: ChatHarness,
) -> None:
    coordinator = await two_answered(harness, closes=NOW + timedelta(days=1))
    harness.service.services.clock = lambda: NOW + timedelta(days=2)
    preview = await coordinator.press("Roześlij wyniki")
    assert "dostaną 2 osoby" in texts(preview) and "cząstkowe" not in texts(preview)
    # An answer arrives between the preview and "send" (written by another path).
    async with harness.service.store.transaction() as session:
        from storage import surveys

        response = await surveys.start_response(
            session, survey="probna", resident_id=1, language="pl", channel="console"
        )
        await surveys.save_answer(
            session, response=response, question="wiek", value={"choice": "do18"}
        )
    again = await coordinator.press("Tak, roześlij")
    assert "nowe odpowiedzi" in texts(again) and await broadcasts(harness) == []
    assert said("broadcast.queued", number=1) in texts(await coordinator.press("Tak, roześlij"))
    [broadcast] = await broadcasts(harness)
    got = await received(harness, broadcast, 701)
    assert "cząstkowe" not in got and IDEA not in got
    assert not any(p in got for p in PERSONAL)


async def test_coordinator_removed_mid_preview_cannot_send(harness: ChatHarness) -> None:
    coordinator = await two_answered(harness)
    await coordinator.press("Roześlij wyniki")
    await coordinator.press("pokaż podgląd")
    assert "Wybierz przycisk" in texts(await coordinator.send("wyślij"))
    coordinator.coordinator = False  # taken off COORDINATOR_IDS
    assert "koordynator" in texts(await coordinator.press("Tak, roześlij")).lower()
    refused = await coordinator.send("wyślij już")
    assert "koordynator" in texts(refused).lower()
    coordinator.coordinator = True
    # The refusal ended the preview: the old button is stale, nothing was queued.
    assert "nieaktualny" in texts(await coordinator.press("Tak, roześlij"))
    assert await broadcasts(harness) == []
