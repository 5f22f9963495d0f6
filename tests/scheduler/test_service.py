"""APScheduler planned from the store: stable ids, restarts, missed jobs, exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.delivery import OutboxSender
from handlers.broadcasts.rules import ScheduleRules
from scheduler.jobs import JobRuntime
from scheduler.service import JobScheduler
from storage.models import OutboxMessage
from storage.schedule import JobRun
from tests.e2e.conftest import wait_until
from tests.handlers.survey_fixture import sample_survey
from tests.harness import ChatHarness, RecordingTransport

RULES = ScheduleRules(survey_reminders=[timedelta(days=1)], grace_period=timedelta(hours=12))


def scheduler_for(harness: ChatHarness) -> JobScheduler:
    runtime = JobRuntime(harness.service.store, harness.service.services)
    return JobScheduler(runtime, RULES)


def job_ids(scheduler: JobScheduler) -> list[str]:
    return sorted(job_id for job_id, _ in scheduler.scheduled())


async def job_runs(harness: ChatHarness) -> list[str]:
    async with harness.service.store.transaction() as session:
        return list(await session.scalars(select(JobRun.job_id)))


async def test_scheduler_restart_keeps_one_copy_of_each_job(harness: ChatHarness) -> None:
    closes = datetime.now(UTC) + timedelta(days=5)
    harness.service.services.surveys = {"probna": sample_survey(closes=closes)}
    first = scheduler_for(harness)
    first.start()
    await first.sync()
    await first.sync()
    assert job_ids(first) == ["survey-reminder:probna:1d"]
    first.shutdown()
    again = scheduler_for(harness)
    again.start()
    await again.sync()
    [(job_id, when)] = again.scheduled()
    assert (job_id, when) == ("survey-reminder:probna:1d", closes - timedelta(days=1))
    again.shutdown()


async def test_job_missed_while_down_runs_once_after_start(harness: ChatHarness) -> None:
    # The reminder was due two hours ago, while the bot was down (grace: 12 h).
    closes = datetime.now(UTC) + timedelta(days=1) - timedelta(hours=2)
    harness.service.services.surveys = {"probna": sample_survey(closes=closes)}
    scheduler = scheduler_for(harness)
    scheduler.start()
    await scheduler.sync()

    async def ran() -> bool:
        return await job_runs(harness) == ["survey-reminder:probna:1d"]

    await wait_until(ran, timeout=10)
    await scheduler.sync()  # replanning after it ran does not bring it back
    assert job_ids(scheduler) == []
    scheduler.shutdown()
    # Nor does a restart: the store says it ran.
    again = scheduler_for(harness)
    again.start()
    assert await again.sync() == []
    assert job_ids(again) == []
    again.shutdown()
    assert await job_runs(harness) == ["survey-reminder:probna:1d"]


async def test_job_missed_beyond_grace_is_not_run(harness: ChatHarness) -> None:
    closes = datetime.now(UTC) + timedelta(days=1) - timedelta(hours=13)
    harness.service.services.surveys = {"probna": sample_survey(closes=closes)}
    scheduler = scheduler_for(harness)
    scheduler.start()
    assert await scheduler.sync() == []
    scheduler.shutdown()
    assert await job_runs(harness) == []


async def test_broadcast_scheduled_for_now_fires_and_sends(harness: ChatHarness) -> None:
    from storage import residents, schedule

    async with harness.service.store.transaction() as session:
        person = await residents.create_with_consent(
            session, telegram_id=77, name="Ola", language="pl"
        )
        person.subscribed = True
        broadcast = await schedule.create_broadcast(
            session,
            created_by=1,
            text="Dziś koncert!",
            audience="subscribers",
            scheduled_at=datetime.now(UTC),
        )
    scheduler = scheduler_for(harness)
    scheduler.runtime.progress_every = 0.05
    scheduler.start()
    await scheduler.sync()

    async def queued() -> bool:
        async with harness.service.store.transaction() as session:
            return bool(
                await session.scalar(
                    select(func.count()).where(OutboxMessage.broadcast_id == broadcast.id)
                )
            )

    await wait_until(queued, timeout=10)
    # The residents' chat: the channel this process serves (the terminal here).
    chat = RecordingTransport()
    chat.channel = harness.service.services.chat_channel
    await OutboxSender(harness.service.store, {chat.channel: chat}).drain()

    async def finished() -> bool:
        return f"broadcast:{broadcast.id}" in await job_runs(harness)

    await wait_until(finished, timeout=10)
    scheduler.shutdown()
    assert [(to, reply.text) for to, reply in chat.delivered] == [("77", "Dziś koncert!")]
