"""The store the panel benchmark measures: filled like a busy edition of a small centre.

Through the storage functions where a page's numbers depend on them (proposals
with history and budget, scores, broadcasts), with bulk inserts of the same
models for the volume (residents, survey responses, mail, outbox, audit).
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from sqlalchemy import insert, select

SECOND_SCORER = 900_002


def closed_answer(question: Any, rng: random.Random) -> Any:
    """A stored answer of the shape the chat's form code writes, for a closed question."""
    kind = question.type.value
    if kind == "single":
        return {"choice": rng.choice(question.options).id}
    if kind == "multiple":
        chosen = rng.sample(question.options, k=min(2, len(question.options)))
        return {"choices": [o.id for o in chosen]}
    if kind == "scale":
        return rng.randint(question.scale.min, question.scale.max)
    if kind == "matrix":
        return {i.id: rng.randint(question.scale.min, question.scale.max) for i in question.items}
    if kind == "yesno":
        return rng.random() < 0.5
    if kind == "number":
        return rng.randint(1, 90)
    return None


async def seed(service: Any, args: Any) -> dict[str, int]:
    """Fill the store; the ids the pages' paths need."""
    from handlers.broadcasts import audiences as audience_choices  # noqa: F401 - imported early
    from storage import schedule, scores
    from storage.mail.models import MailMessage, MailThread
    from storage.models import (
        OutboxMessage,
        PanelAudit,
        Resident,
        SurveyAnswer,
        SurveyResponse,
    )
    from storage.types import utcnow
    from tests.conftest import COORDINATOR_ID
    from tests.handlers.review_fixture import submit

    rng = random.Random(18)
    services = service.services
    contest = services.contest
    now = utcnow()
    titles = ["Neighbourhood fair", "Open-air cinema", "Pottery workshop", "Village dance"]
    first_proposal = 0
    async with service.store.transaction() as session:
        for n in range(args.proposals):
            made = await submit(
                session,
                contest,
                title=f"{titles[n % len(titles)]} {n}",
                amounts=[str(rng.randint(500, 4000)), str(rng.randint(100, 3000))],
                minutes=n,
            )
            first_proposal = first_proposal or made.id
            for coordinator in (COORDINATOR_ID, SECOND_SCORER):
                for criterion in contest.criteria:
                    await scores.set_score(
                        session,
                        proposal_id=made.id,
                        coordinator_id=coordinator,
                        criterion=criterion.id,
                        value=rng.randint(criterion.scale.min, criterion.scale.max),
                        comment="Uzasadnienie oceny." if n % 3 == 0 else None,
                    )

    survey = services.surveys["diagnoza-2021"]
    closed = [q for q in survey.questions if closed_answer(q, rng) is not None]
    async with service.store.transaction() as session:
        await session.execute(
            insert(Resident),
            [
                {
                    "telegram_id": 10_000_000 + n,
                    "name": None,
                    "language": "pl",
                    "consent_given_at": now,
                    "subscribed": n % 2 == 0,
                    "blocked": False,
                    "created_at": now,
                    "last_active_at": now,
                }
                for n in range(args.responses)
            ],
        )
        people = list(
            await session.scalars(select(Resident.id).where(Resident.telegram_id >= 10_000_000))
        )
    chunk = 1000
    for start in range(0, len(people), chunk):
        async with service.store.transaction() as session:
            rows = []
            for resident_id in people[start : start + chunk]:
                finished = now - timedelta(minutes=rng.randint(5, 30 * 24 * 60))
                rows.append(
                    {
                        "survey": survey.slug,
                        "resident_id": resident_id,
                        "status": "finished",
                        "language": "pl",
                        "channel": rng.choice(["telegram", "email", "paper"]),
                        "started_at": finished - timedelta(minutes=7),
                        "updated_at": finished,
                        "finished_at": finished,
                    }
                )
            await session.execute(insert(SurveyResponse), rows)
            ids = list(
                await session.scalars(
                    select(SurveyResponse.id).where(
                        SurveyResponse.resident_id.in_(people[start : start + chunk])
                    )
                )
            )
            await session.execute(
                insert(SurveyAnswer),
                [
                    {
                        "response_id": response_id,
                        "question": q.id,
                        "value": closed_answer(q, rng),
                        "answered_at": now,
                    }
                    for response_id in ids
                    for q in closed
                ],
            )

    first_thread = 0
    made_mails = 0
    thread_number = 0
    while made_mails < args.mails:
        async with service.store.transaction() as session:
            batch_threads = []
            for _ in range(500):
                size = min(rng.randint(1, 5), args.mails - made_mails)
                if size <= 0:
                    break
                thread = MailThread(
                    subject=f"A question about classes {thread_number}",
                    subject_key=f"pytanie o zajecia {thread_number}",
                    counterpart=f"osoba{thread_number}@example.pl",
                    status="open" if thread_number % 3 == 0 else "handled",
                    message_count=size,
                    created_at=now - timedelta(hours=thread_number),
                    last_message_at=now - timedelta(minutes=thread_number),
                )
                session.add(thread)
                batch_threads.append((thread, size, thread_number))
                made_mails += size
                thread_number += 1
            await session.flush()
            first_thread = first_thread or batch_threads[0][0].id
            await session.execute(
                insert(MailMessage),
                [
                    {
                        "thread_id": thread.id,
                        "direction": "in",
                        "message_id": f"bench-{number}-{k}@lokalnie.bench",
                        "from_name": f"Osoba {number}",
                        "from_address": f"osoba{number}@example.pl",
                        "subject": f"A question about classes {number}",
                        "received_at": now - timedelta(minutes=number, seconds=k),
                        "text": "Hello,\nare there still places in the workshop?\n" * 8,
                        "size": 2000,
                    }
                    for thread, size, number in batch_threads
                    for k in range(size)
                ],
            )

    async with service.store.transaction() as session:
        for n in range(3):
            broadcast = await schedule.create_broadcast(
                session,
                created_by=COORDINATOR_ID,
                text=f"Invitation no. {n} to an event at the centre.",
                audience="subscribers",
                scheduled_at=now - timedelta(days=n + 1),
            )
            broadcast.status = schedule.DONE if n else schedule.SENDING
            broadcast.total, broadcast.expanded = 2000, True
            await session.flush()
            await session.execute(
                insert(OutboxMessage),
                [
                    {
                        "channel": "telegram",
                        "recipient": str(10_000_000 + k),
                        "payload": {"text": broadcast.text},
                        "idempotency_key": f"broadcast:{broadcast.id}:{k}",
                        "status": "pending" if (n == 0 and k % 2) else "sent",
                        "priority": 1,
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                        "broadcast_id": broadcast.id,
                    }
                    for k in range(2000)
                ],
            )
        await session.execute(
            insert(PanelAudit),
            [
                {
                    "at": now - timedelta(minutes=n),
                    "coordinator_id": COORDINATOR_ID,
                    "action": "scored",
                    "target": f"W/{n}",
                    "detail": None,
                }
                for n in range(1000)
            ],
        )
    return {"proposal": first_proposal, "thread": first_thread}
