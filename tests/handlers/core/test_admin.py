"""The coordinator's /admin, and refusing it to everyone else."""

from __future__ import annotations

from sqlalchemy import select

from handlers.core.admin import AdminOpen
from storage.models import Event
from tests.conftest import COORDINATOR_ID
from tests.harness import ChatHarness, texts


async def test_admin_from_resident_is_refused_politely_and_logged(harness: ChatHarness) -> None:
    anna = harness.person(301)
    await anna.send("/start")
    await anna.press("Tak, zgadzam")
    replies = await anna.send("/admin")
    assert "tylko dla koordynatorów" in texts(replies)
    async with harness.service.store.transaction() as session:
        [event] = list(await session.scalars(select(Event).where(Event.kind == "admin_refused")))
    assert event.data["user_id"] == 301
    assert event.data["what"] == "/admin"


async def test_admin_button_forged_by_stranger_is_refused(harness: ChatHarness) -> None:
    stranger = harness.person(302)
    replies = await stranger.choose(AdminOpen("anything").pack())
    assert "tylko dla koordynatorów" in texts(replies)


async def test_admin_for_coordinator_shows_counts(harness: ChatHarness) -> None:
    for user_id in (303, 304):
        person = harness.person(user_id)
        await person.send("/start")
        await person.press("Tak, zgadzam")
    await person.press("Tak, chcę")
    coordinator = harness.person(COORDINATOR_ID, coordinator=True)
    text = texts(await coordinator.send("/admin"))
    assert "Panel koordynatora" in text
    assert "Mieszkańcy ze zgodą: 2" in text
    assert "Osoby zapisane na wiadomości: 1" in text
