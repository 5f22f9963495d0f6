"""A coordinator removed from the list mid-flow cannot finish it: every step checks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import Service
from handlers.routes import ROUTES
from storage import conversations, residents
from storage.models import Conversation
from storage.schedule import Announcement, Broadcast
from tests.conftest import COORDINATOR_ID, make_settings
from tests.handlers.contest_fixture import sample_contest
from tests.harness import ChatHarness, texts

REFUSED = "tylko dla koordynatorów"


@pytest.fixture
async def harness(database_url: str, tmp_path: Path) -> AsyncIterator[ChatHarness]:
    service = Service(make_settings(database_url, tmp_path))
    try:
        yield ChatHarness(service)
    finally:
        await service.close()


def demote(harness: ChatHarness) -> None:
    services = harness.service.services
    services.coordinator_ids = services.coordinator_ids - {COORDINATOR_ID}


async def stored(harness: ChatHarness, model: type) -> list:
    async with harness.service.store.transaction() as session:
        return list(await session.scalars(select(model)))


def test_every_coordinator_flow_is_marked() -> None:
    # Every flow but the resident's own (a survey, a proposal, a question, proving
    # an e-mail address).
    residents = {"survey", "proposal", "ask", "email"}
    assert ROUTES.coordinator_flows == set(ROUTES.flows) - residents


async def test_broadcast_text_typed_after_removal_is_refused(harness: ChatHarness) -> None:
    coordinator = harness.person(COORDINATOR_ID, coordinator=True)
    assert "Napisz treść" in texts(await coordinator.send("/broadcast"))
    demote(harness)
    assert REFUSED in texts(await coordinator.send("Festyn w sobotę"))
    # The flow is over: typing again is not taken as the broadcast's text.
    assert "Do kogo" not in texts(await coordinator.send("Festyn w sobotę"))
    assert await stored(harness, Broadcast) == []
    assert await stored(harness, Conversation) == []


async def test_scheduled_broadcast_date_typed_after_removal_is_refused(
    harness: ChatHarness,
) -> None:
    coordinator = harness.person(COORDINATOR_ID, coordinator=True)
    await coordinator.send("/broadcast")
    await coordinator.send("Jutro warsztaty")
    await coordinator.press("Wszystkie osoby zapisane")
    assert "Kiedy wysłać" in texts(await coordinator.press("Zaplanuj"))
    demote(harness)
    assert REFUSED in texts(await coordinator.send("15.01.2099 18:30"))
    assert await stored(harness, Broadcast) == []


async def test_broadcast_button_pressed_after_removal_is_refused(harness: ChatHarness) -> None:
    coordinator = harness.person(COORDINATOR_ID, coordinator=True)
    await coordinator.send("/broadcast")
    await coordinator.send("Jutro warsztaty")
    demote(harness)
    assert REFUSED in texts(await coordinator.press("Wszystkie osoby zapisane"))
    assert await stored(harness, Broadcast) == []


async def test_announce_time_typed_after_removal_is_refused(harness: ChatHarness) -> None:
    harness.service.services.contest = sample_contest()
    coordinator = harness.person(COORDINATOR_ID, coordinator=True)
    await coordinator.send("/announce")
    before = await stored(harness, Announcement)
    demote(harness)
    assert REFUSED in texts(await coordinator.send("15.01.2099 18:30"))
    after = await stored(harness, Announcement)
    assert [(a.id, a.at) for a in after] == [(a.id, a.at) for a in before]


@pytest.mark.parametrize("flow", sorted(ROUTES.coordinator_flows))
async def test_each_coordinator_flow_refuses_a_removed_coordinator(
    harness: ChatHarness, flow: str
) -> None:
    async with harness.service.store.transaction() as session:
        resident = await residents.create_with_consent(
            session, telegram_id=COORDINATOR_ID, name="Marta", language="pl"
        )
        await conversations.begin(session, resident_id=resident.id, flow=flow, step="text")
    coordinator = harness.person(COORDINATOR_ID, coordinator=True)
    before = await harness.row_counts()
    demote(harness)
    assert REFUSED in texts(await coordinator.send("1"))
    after = await harness.row_counts()
    # Only the refusal is recorded (an event, the reply) and the flow is ended.
    changed = {name for name in after if after[name] != before[name]}
    assert changed <= {"events", "outbox", "conversations", "inbound_receipts"}
    assert after["conversations"] == 0
