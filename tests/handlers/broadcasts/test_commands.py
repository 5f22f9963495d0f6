"""The coordinator's /broadcast, /schedule and /announce in the terminal channel."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from storage import residents, schedule
from storage.schedule import Announcement, Broadcast
from tests.conftest import COORDINATOR_ID
from tests.handlers.contest_fixture import sample_contest
from tests.harness import ChatHarness, said, texts


async def subscribed(harness: ChatHarness, *ids: int) -> None:
    async with harness.service.store.transaction() as session:
        for telegram_id in ids:
            person = await residents.create_with_consent(
                session, telegram_id=telegram_id, name="M", language="pl"
            )
            person.subscribed = telegram_id % 2 == 0


async def test_broadcast_preview_counts_subscribers_and_send_now_creates_it(
    harness: ChatHarness,
) -> None:
    changed: list[bool] = []
    harness.service.services.on_schedule_changed = lambda: changed.append(True)
    await subscribed(harness, 10, 11, 12, 13)
    coordinator = harness.person(COORDINATOR_ID, coordinator=True)
    assert "Napisz treść" in texts(await coordinator.send("/broadcast"))
    assert "Do kogo" in texts(await coordinator.send("Festyn w sobotę o 15:00!"))
    preview = await coordinator.press("Wszystkie osoby zapisane")
    assert "Odbiorców: 2" in texts(preview) and "Festyn w sobotę" in texts(preview)
    assert said("broadcast.queued", number=1) in texts(await coordinator.press("Wyślij teraz"))
    async with harness.service.store.transaction() as session:
        [broadcast] = list(await session.scalars(select(Broadcast)))
    assert broadcast.text == "Festyn w sobotę o 15:00!" and broadcast.audience == "subscribers"
    assert broadcast.progress_chat == str(COORDINATOR_ID) and changed == [True]


async def test_broadcast_scheduled_for_later_with_a_bad_date_first(harness: ChatHarness) -> None:
    harness.service.services.clock = lambda: datetime(2030, 1, 1, tzinfo=UTC)
    coordinator = harness.person(COORDINATOR_ID, coordinator=True)
    await coordinator.send("/broadcast")
    await coordinator.send("Jutro warsztaty")
    await coordinator.press("Wszystkie osoby zapisane")
    assert "Kiedy wysłać" in texts(await coordinator.press("Zaplanuj"))
    assert "Nie rozpoznaję" in texts(await coordinator.send("jutro"))
    assert "już minął" in texts(await coordinator.send("01.12.2029 10:00"))
    done = await coordinator.send("15.01.2030 18:30")
    assert "zaplanowana na 15 stycznia 2030, 18:30" in texts(done)
    async with harness.service.store.transaction() as session:
        [broadcast] = list(await session.scalars(select(Broadcast)))
    assert broadcast.scheduled_at == datetime(2030, 1, 15, 17, 30, tzinfo=UTC)
    listing = texts(await coordinator.send("/schedule"))
    assert f"wysyłka nr {broadcast.id}" in listing and "15 stycznia 2030, 18:30" in listing


async def test_broadcast_stop_button_cancels(harness: ChatHarness) -> None:
    await subscribed(harness, 20)
    async with harness.service.store.transaction() as session:
        broadcast = await schedule.create_broadcast(
            session, created_by=COORDINATOR_ID, text="x", audience="subscribers"
        )
    coordinator = harness.person(COORDINATOR_ID, coordinator=True)
    replies = await coordinator.choose(f"bcast:stop:{broadcast.id}")
    assert "Zatrzymano wysyłkę" in texts(replies)
    again = await coordinator.choose(f"bcast:stop:{broadcast.id}")
    assert "już się zakończyła" in texts(again)


async def test_broadcast_and_stop_are_refused_to_residents(harness: ChatHarness) -> None:
    resident = harness.person(30)
    assert "tylko dla koordynatorów" in texts(await resident.send("/broadcast"))
    assert "tylko dla koordynatorów" in texts(await resident.choose("bcast:stop:1"))


async def test_announce_sets_the_time_of_the_results(harness: ChatHarness) -> None:
    services = harness.service.services
    services.contest = sample_contest()
    services.clock = lambda: datetime(2030, 6, 10, tzinfo=UTC)
    coordinator = harness.person(COORDINATOR_ID, coordinator=True)
    assert "Kiedy ogłosić" in texts(await coordinator.send("/announce"))
    assert "30 czerwca 2030, 12:00" in texts(await coordinator.send("30.06.2030 12:00"))
    async with harness.service.store.transaction() as session:
        [announcement] = list(await session.scalars(select(Announcement)))
    assert announcement.contest == "test-2030"
    listing = texts(await coordinator.send("/schedule"))
    assert "ogłoszenie wyników" in listing
    # The contest by its name, never by its technical id.
    assert services.contest.name.get("pl") in listing and "test-2030" not in listing
