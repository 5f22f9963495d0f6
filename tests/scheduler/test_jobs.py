"""What the jobs do, each run exactly once, with a set clock."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from scheduler.jobs import execute
from scheduler.runtime import JobRuntime
from storage import proposals, schedule, surveys
from storage.models import OutboxMessage, Resident
from tests.handlers.contest_fixture import sample_contest
from tests.handlers.survey_fixture import sample_survey
from tests.harness import ChatHarness


async def resident(h: ChatHarness, telegram_id: int, *, subscribed: bool = True) -> int:
    from storage import residents

    async with h.service.store.transaction() as session:
        person = await residents.create_with_consent(
            session, telegram_id=telegram_id, name=f"R{telegram_id}", language="pl"
        )
        person.subscribed = subscribed
        return person.id


async def messages(h: ChatHarness) -> list[OutboxMessage]:
    async with h.service.store.transaction() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def runtime(h: ChatHarness) -> JobRuntime:
    return JobRuntime(h.service.store, h.service.services, progress_every=0.01)


async def test_survey_reminder_goes_to_unfinished_respondents_once(harness: ChatHarness) -> None:
    services = harness.service.services
    services.surveys = {"probna": sample_survey(closes=datetime(2030, 4, 30, 21, 59, tzinfo=UTC))}
    started, finished = await resident(harness, 1), await resident(harness, 2)
    await resident(harness, 3)
    async with harness.service.store.transaction() as session:
        for person, done in ((started, False), (finished, True)):
            response = await surveys.start_response(
                session, survey="probna", resident_id=person, language="pl", channel="telegram"
            )
            if done:
                await surveys.finish(session, response)
    job = "survey-reminder:probna:1d"
    assert await execute(runtime(harness), "survey_reminder", "probna", job) == "reminded 1"
    assert await execute(runtime(harness), "survey_reminder", "probna", job) == "already done"
    [reminder] = await messages(harness)
    assert reminder.recipient == "1"
    assert "zamyka się 30 kwietnia 2030, 23:59" in reminder.payload["text"]
    assert reminder.priority == 1


async def test_contest_reminder_goes_to_draft_holders(harness: ChatHarness) -> None:
    harness.service.services.contest = sample_contest()
    drafter = await resident(harness, 11)
    await resident(harness, 12)
    async with harness.service.store.transaction() as session:
        await proposals.create_draft(
            session, contest="test-2030", resident_id=drafter, language="pl", channel="telegram"
        )
    outcome = await execute(runtime(harness), "contest_reminder", "test-2030", "c:1")
    assert outcome == "reminded 1"
    [reminder] = await messages(harness)
    assert reminder.recipient == "11" and "/propose" in reminder.payload["text"]


async def test_announcement_tells_each_applicant_and_subscribers(harness: ChatHarness) -> None:
    harness.service.services.contest = sample_contest()
    winner, loser = await resident(harness, 21), await resident(harness, 22)
    await resident(harness, 23)
    async with harness.service.store.transaction() as session:
        for number, (person, selected) in enumerate(((winner, True), (loser, False)), start=1):
            proposal = await proposals.create_draft(
                session,
                contest="test-2030",
                resident_id=person,
                language="pl",
                channel="telegram",
            )
            await proposals.set_answer(session, proposal, "tytul", f"Pomysł {number}")
            await proposals.set_answer(session, proposal, "wnioskodawca", f"Grupa {number}")
            await proposals.set_answer(session, proposal, "email", f"g{number}@example.pl")
            await proposals.set_budget(session, proposal, [{"item": "x", "amount": "5000.00"}])
            proposal.number = f"KP-TEST-00{number}"
            await proposals.record(session, proposal, "submitted", to_status="submitted")
            session.add(
                proposals.ContestOutcome(
                    contest="test-2030",
                    proposal_id=proposal.id,
                    selected=selected,
                    rank=number,
                    note="Świetny pomysł" if selected else None,
                )
            )
        await schedule.set_announcement(
            session, contest="test-2030", at=datetime(2030, 7, 1, tzinfo=UTC), set_by=1
        )
    outcome = await execute(runtime(harness), "announcement", "test-2030", "announcement:x")
    assert outcome == "told 2 applicants, 1 funded"
    sent = await messages(harness)
    to: dict[tuple[str, str], str] = {}
    for m in sent:
        key = (m.channel, m.recipient)
        to[key] = to.get(key, "") + "\n" + m.payload.get("text", "")
    # Residents are told in the chat this process serves (the terminal here).
    chat = harness.service.services.chat_channel
    assert "Gratulacje!" in to[(chat, "21")] and "Świetny pomysł" in to[(chat, "21")]
    assert "Niestety nie tym razem." in to[(chat, "22")]
    assert "Pomysł 1 – Grupa 1 (5\u00a0000\u00a0zł)" in to[(chat, "23")]
    assert "Pomysł 2" not in to[(chat, "23")]
    assert {m.recipient for m in sent if m.channel == "email"} == {"g1@example.pl", "g2@example.pl"}


async def test_broadcast_reaches_subscribers_once_and_never_the_unsubscribed(
    harness: ChatHarness,
) -> None:
    for telegram_id in range(100, 110):
        await resident(harness, telegram_id, subscribed=telegram_id % 3 != 0)
    async with harness.service.store.transaction() as session:
        broadcast = await schedule.create_broadcast(
            session,
            created_by=1,
            text="Zapraszamy na festyn!",
            audience="subscribers",
            progress_channel="telegram",
            progress_chat="900001",
        )
    run = runtime(harness)
    job = f"broadcast:{broadcast.id}"
    # Deliver as we go, so the job sees its messages sent and finishes.
    import asyncio

    task = asyncio.create_task(execute(run, "broadcast", str(broadcast.id), job))
    while not task.done():
        await asyncio.sleep(0.01)
        async with harness.service.store.transaction() as session:
            await session.execute(
                OutboxMessage.__table__.update()
                .where(
                    OutboxMessage.status == "pending", OutboxMessage.broadcast_id == broadcast.id
                )
                .values(status="sent")
            )
    assert task.result() == "sent 7 of 7"
    assert await execute(run, "broadcast", str(broadcast.id), job) == "already done"
    sent = [m for m in await messages(harness) if m.broadcast_id == broadcast.id]
    assert sorted(int(m.recipient) for m in sent) == [i for i in range(100, 110) if i % 3 != 0]
    async with harness.service.store.transaction() as session:
        stored = await schedule.get_broadcast(session, broadcast.id)
        unsubscribed = list(
            await session.scalars(
                select(Resident.telegram_id).where(Resident.subscribed.is_(False))
            )
        )
    assert stored is not None and stored.status == "done" and stored.total == 7
    assert not {str(u) for u in unsubscribed} & {m.recipient for m in sent}
    progress = [m for m in await messages(harness) if m.recipient == "900001"]
    assert progress and "wysłano" in progress[0].payload["text"]


async def test_broadcast_cancel_stops_pending_messages(harness: ChatHarness) -> None:
    for telegram_id in range(200, 205):
        await resident(harness, telegram_id)
    async with harness.service.store.transaction() as session:
        broadcast = await schedule.create_broadcast(
            session, created_by=1, text="Odwołane", audience="subscribers"
        )
    import asyncio

    run = runtime(harness)
    task = asyncio.create_task(execute(run, "broadcast", str(broadcast.id), "b:cancel"))
    while True:
        await asyncio.sleep(0.01)
        async with harness.service.store.transaction() as session:
            stored = await schedule.get_broadcast(session, broadcast.id)
            assert stored is not None
            if stored.expanded:
                cancelled = await schedule.cancel_broadcast(session, stored)
                break
    await asyncio.wait_for(task, timeout=10)
    assert cancelled == 5
    assert {m.status for m in await messages(harness)} == {"cancelled"}
