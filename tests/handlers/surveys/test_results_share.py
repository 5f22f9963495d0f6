"""The diagnosis results broadcast to subscribers: the summary, then each chart."""

from __future__ import annotations

from sqlalchemy import select

from scheduler.jobs import execute
from scheduler.runtime import JobRuntime
from storage import residents
from storage.models import OutboxMessage
from storage.schedule import Broadcast
from tests.conftest import COORDINATOR_ID
from tests.handlers.survey_fixture import sample_survey
from tests.harness import ChatHarness, texts


async def test_results_shared_as_summary_then_charts_in_order(harness: ChatHarness) -> None:
    harness.service.services.surveys = {"probna": sample_survey()}
    anna = harness.person(701)
    await anna.send("/start")
    await anna.press("Tak, zgadzam")
    await anna.press("Tak, chcę")
    await anna.send("/survey")
    await anna.press("19–64")
    coordinator = harness.person(COORDINATOR_ID, coordinator=True)
    shown = await coordinator.send("/results probna")
    assert any(r.file and r.file.mime_type == "image/png" for r in shown)
    question = await coordinator.press("Roześlij wyniki")
    assert "do 1 osób" in texts(question)
    assert "ruszyła" in texts(await coordinator.press("Tak, roześlij"))
    async with harness.service.store.transaction() as session:
        [broadcast] = list(await session.scalars(select(Broadcast)))
    assert broadcast.extra and all(part["file"] for part in broadcast.extra)
    run = JobRuntime(harness.service.store, harness.service.services, progress_every=0.01)
    import asyncio

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
        person = await residents.find_by_telegram_id(session, 701)
        assert person is not None
        rows = list(
            await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.broadcast_id == broadcast.id, OutboxMessage.recipient == "701")
                .order_by(OutboxMessage.id)
            )
        )
    assert rows[0].payload["text"] == broadcast.text and "file" not in rows[0].payload
    assert [bool(r.payload.get("file")) for r in rows[1:]] == [True] * len(broadcast.extra)
