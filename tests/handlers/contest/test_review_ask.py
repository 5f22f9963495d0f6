"""Residents' questions to the coordinators and the answers, through the terminal
channel on a real store."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import questions
from storage.models import OutboxMessage, Resident
from tests.conftest import COORDINATOR_ID
from tests.handlers.contest.review_helpers import (
    SECOND_COORDINATOR,
    coordinator,
    delivered_to,
    resident,
)
from tests.harness import ChatHarness, said, texts

# --- questions to the coordinators --------------------------------------------------------


async def test_ask_round_trip_from_resident_to_coordinator_and_back(
    review_harness: ChatHarness,
) -> None:
    ewa = await resident(review_harness, 611)
    marta = coordinator(review_harness)
    jan = coordinator(review_harness, SECOND_COORDINATOR)
    assert "Napisz swoje pytanie" in texts(await ewa.send("/ask"))
    sent = await ewa.send("Czy grupa może złożyć dwa wnioski?")
    assert "trafiło do ośrodka" in texts(sent)
    for person in (marta, jan):
        [notice] = delivered_to(review_harness, person)
        assert "Ewa (Telegram 611)" in notice.text
        assert "Czy grupa może złożyć dwa wnioski?" in notice.text
    assert "bez odpowiedzi: 1" in texts(await marta.send("/admin"))
    delivered_to(review_harness, marta)
    prompt = await marta.press("Odpowiedz")
    assert "Czy grupa może złożyć dwa wnioski?" in texts(prompt)
    sent_back = await marta.send("Tak, jeśli to dwa różne pomysły.")
    assert said("ask.answer_queued") in texts(sent_back)
    [answer] = delivered_to(review_harness, ewa)[-1:]
    assert "Tak, jeśli to dwa różne pomysły." in answer.text
    assert "Czy grupa może złożyć dwa wnioski?" in answer.text
    late = await jan.press("Odpowiedz")
    assert "już odpowiedziano (koordynator 900001)" in texts(late)
    async with review_harness.service.store.transaction() as session:
        [stored] = await questions.of_resident(session, await _resident_id(session, 611))
    assert stored.answered_by == COORDINATOR_ID
    assert stored.answer == "Tak, jeśli to dwa różne pomysły."
    assert "bez odpowiedzi: 0" in texts(await marta.send("/admin"))


async def _resident_id(session: AsyncSession, telegram_id: int) -> int:
    row = await session.scalar(select(Resident).where(Resident.telegram_id == telegram_id))
    assert row is not None
    return row.id


async def test_ask_in_one_go_and_listed_on_the_admin_panel(review_harness: ChatHarness) -> None:
    ewa = await resident(review_harness, 612)
    await ewa.send("/ask Do kiedy można składać wnioski?")
    marta = coordinator(review_harness)
    await marta.send("/admin")
    listed = await marta.press("Pytania mieszkańców")
    assert "Pytania bez odpowiedzi: 1" in texts(listed)
    assert "Do kiedy można składać wnioski?" in texts(listed)
    await marta.press("Odpowiedz")
    await marta.send("Do 7 czerwca, do 23:59.")
    [answer] = delivered_to(review_harness, ewa)[-1:]
    assert "Do 7 czerwca, do 23:59." in answer.text


async def test_ask_needs_consent_and_forget_deletes_the_question(
    review_harness: ChatHarness,
) -> None:
    stranger = review_harness.person(613)
    assert "/start" in texts(await stranger.send("/ask Halo?"))
    ewa = await resident(review_harness, 614)
    await ewa.send("/ask Czy są warsztaty dla dzieci?")
    await ewa.send("/forget")
    await ewa.press("Tak, usuń")
    # The question is free text about the person: it goes, and so does the notice.
    async with review_harness.service.store.transaction() as session:
        assert await questions.unanswered(session) == []
        payloads = [m.payload for m in await session.scalars(select(OutboxMessage))]
    assert not any("warsztaty dla dzieci" in str(p) for p in payloads)
