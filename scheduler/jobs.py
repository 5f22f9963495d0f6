"""What scheduled jobs do. Module-level coroutines, so APScheduler can store them.

Every job writes its messages to the outbox with keys derived from the job id
and the recipient, and records itself in `job_runs` in the same transaction:
a job fired twice (a restart, a misfire) sends nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from babel.dates import format_datetime
from sqlalchemy import select

from handlers.broadcasts import audiences, plan
from handlers.broadcasts.commands import BroadcastStop
from handlers.contest import budget as money
from handlers.core.mail_out import queue_email
from handlers.core.services import Services
from storage import outbox
from storage import proposals as contest_store
from storage import schedule as store
from storage.audiences import Recipient, draft_holders, subscribers, unfinished_respondents
from storage.db import Store
from storage.models import Resident
from storage.types import utcnow

log = logging.getLogger(__name__)
BULK = 1
# Recipients queued per transaction: small enough that the write lock is never held
# for long (SQLite has one; a chunk is one INSERT of a few ms), large enough to keep
# the commits few.
EXPAND_CHUNK = 500
PROGRESS_EVERY = 5.0


@dataclass
class JobRuntime:
    store: Store
    services: Services
    wake_sender: Callable[[], None] = field(default=lambda: None)
    progress_every: float = PROGRESS_EVERY


_runtime: JobRuntime | None = None


def install(runtime: JobRuntime | None) -> None:
    """Give the jobs the running service (APScheduler stores only a function name)."""
    global _runtime
    _runtime = runtime


async def run_job(kind: str, key: str, job_id: str) -> None:
    """The one function APScheduler calls."""
    if _runtime is None:
        log.error("job %s fired before the service was installed", job_id)
        return
    try:
        await execute(_runtime, kind, key, job_id)
    except Exception:
        log.exception("job %s failed", job_id)


async def execute(runtime: JobRuntime, kind: str, key: str, job_id: str) -> str:
    """Run one job unless it already ran; returns what it did (for logs and tests)."""
    async with runtime.store.transaction() as session:
        if await store.job_ran(session, job_id):
            return "already done"
    if kind == plan.BROADCAST:
        outcome = await run_broadcast(runtime, int(key), job_id)
    else:
        actions = {
            plan.SURVEY_REMINDER: _survey_reminder,
            plan.CONTEST_REMINDER: _contest_reminder,
            plan.ANNOUNCEMENT: _announcement,
        }
        async with runtime.store.transaction() as session:
            if await store.job_ran(session, job_id):
                return "already done"
            outcome = await actions[kind](runtime, session, key, job_id)
            await store.record_job(session, job_id, outcome)
    runtime.wake_sender()
    log.info("job %s: %s", job_id, outcome)
    return outcome


def _text(services: Services, language: str, key: str, **values: object) -> str:
    return services.translator.text(language, key, **values)


def _when(services: Services, moment: datetime, language: str) -> str:
    local = moment.astimezone(services.timezone)
    return format_datetime(local, "d MMMM y, HH:mm", locale=language)


async def _send(
    session: Any,
    services: Services,
    recipient: Recipient,
    text: str,
    key: str,
    *,
    subject: str = "",
    file: dict[str, Any] | None = None,
    broadcast_id: int | None = None,
) -> bool:
    """Queue one bulk message on the recipient's channel; False if queued before."""
    if recipient.channel == "email":
        before = await outbox.find(session, key)
        unsubscribe = _text(services, recipient.language, "broadcast.unsubscribe_line")
        await queue_email(
            session,
            to=recipient.address,
            subject=subject or text[:60],
            text=f"{text}\n\n--\n{unsubscribe}",
            key=key,
            resident_id=recipient.resident_id,
            bulk=True,
        )
        return before is None
    payload: dict[str, Any] = {"text": text}
    if file:
        payload["file"] = file
    queued = await outbox.enqueue(
        session,
        channel=recipient.channel,
        recipient=recipient.address,
        payload=payload,
        idempotency_key=key,
        resident_id=recipient.resident_id,
        priority=BULK,
        broadcast_id=broadcast_id,
    )
    return queued is not None


async def _remind(
    runtime: JobRuntime,
    session: Any,
    job_id: str,
    people: list[Recipient],
    key: str,
    deadline: datetime,
    name: Callable[[str], str],
) -> str:
    """One reminder per person, in their language, keyed by the job and the person."""
    services = runtime.services
    for person in people:
        text = _text(
            services,
            person.language,
            key,
            name=name(person.language),
            when=_when(services, deadline, person.language),
        )
        await _send(session, services, person, text, f"{job_id}:{person.resident_id}")
    return f"reminded {len(people)}"


async def _survey_reminder(runtime: JobRuntime, session: Any, slug: str, job_id: str) -> str:
    survey = runtime.services.surveys.get(slug)
    if survey is None or survey.closes is None:
        return "survey gone"
    people = await unfinished_respondents(session, slug)
    return await _remind(
        runtime, session, job_id, people, "reminder.survey", survey.closes, survey.title.get
    )


async def _contest_reminder(runtime: JobRuntime, session: Any, slug: str, job_id: str) -> str:
    contest = runtime.services.contest
    if contest is None or contest.slug != slug:
        return "contest gone"
    people = await draft_holders(session, slug)
    return await _remind(
        runtime, session, job_id, people, "reminder.contest", contest.closes, contest.name.get
    )


async def _announcement(runtime: JobRuntime, session: Any, slug: str, job_id: str) -> str:
    """Each applicant learns their own outcome; subscribers get the funded initiatives."""
    services = runtime.services
    contest = services.contest
    if contest is None or contest.slug != slug:
        return "contest gone"
    outcomes = list(
        await session.scalars(
            select(contest_store.ContestOutcome)
            .where(contest_store.ContestOutcome.contest == slug)
            .order_by(contest_store.ContestOutcome.rank)
        )
    )
    funded: list[tuple[str, str, Decimal]] = []
    told = 0
    for outcome in outcomes:
        proposal = await contest_store.get(session, outcome.proposal_id)
        if proposal is None:
            continue
        title = proposal.answers.get(contest.title_field, "")
        if outcome.selected:
            funded.append(
                (
                    title,
                    proposal.answers.get(contest.applicant_name_field, ""),
                    money.total(money.lines_of(proposal.budget)),
                )
            )
        language = proposal.language
        messages = contest.messages
        verdict = (messages.accepted if outcome.selected else messages.rejected).get(language)
        text = _text(
            services,
            language,
            "announcement.personal",
            number=proposal.number,
            title=title,
            verdict=verdict,
        )
        if outcome.note:
            text += "\n\n" + _text(services, language, "announcement.note", note=outcome.note)
        resident = (
            await session.get(Resident, proposal.resident_id) if proposal.resident_id else None
        )
        if resident is not None and resident.telegram_id is not None:
            await _send(
                session,
                services,
                Recipient(resident.id, "telegram", str(resident.telegram_id), language),
                text,
                f"{job_id}:applicant:{proposal.id}",
            )
        email = proposal.answers.get(contest.email_field)
        if email:
            await queue_email(
                session,
                to=email,
                subject=_text(services, language, "announcement.subject", number=proposal.number),
                text=text,
                key=f"{job_id}:applicant-mail:{proposal.id}",
                resident_id=proposal.resident_id,
            )
        outcome.announced_at = utcnow()
        told += 1
    for person in await subscribers(session):
        lines = [
            f"• {title} – {who} ({money.money(amount)} {contest.currency})"
            for title, who, amount in funded
        ]
        text = _text(
            services,
            person.language,
            "announcement.public",
            name=contest.name.get(person.language),
            list="\n".join(lines),
        )
        await _send(session, services, person, text, f"{job_id}:public:{person.resident_id}")
    for announcement in await store.announcements(session):
        if announcement.contest == slug:
            announcement.done_at = utcnow()
    return f"told {told} applicants, {len(funded)} funded"


# --- broadcasts -----------------------------------------------------------------------


async def run_broadcast(runtime: JobRuntime, broadcast_id: int, job_id: str) -> str:
    """Expand the audience into the outbox (resumable), then report progress until done."""
    services = runtime.services
    async with runtime.store.transaction() as session:
        broadcast = await store.get_broadcast(session, broadcast_id)
        if broadcast is None or broadcast.status in (store.CANCELLED, store.DONE):
            return "nothing to send"
        if broadcast.status == store.SCHEDULED:
            broadcast.status = store.SENDING
            broadcast.started_at = utcnow()
        expanded = broadcast.expanded
        audience = broadcast.audience
    if not expanded:
        async with runtime.store.transaction() as session:
            people = await audiences.resolve(session, services, audience)
        for start in range(0, len(people), EXPAND_CHUNK):
            async with runtime.store.transaction() as session:
                broadcast = await store.get_broadcast(session, broadcast_id)
                assert broadcast is not None
                if broadcast.status == store.CANCELLED:
                    return "cancelled"
                parts = [{"text": broadcast.text, "file": broadcast.file}, *(broadcast.extra or [])]
                chunk = people[start : start + EXPAND_CHUNK]
                # One transaction per chunk: a recipient's parts get ids in order.
                await _queue_broadcast(session, services, broadcast_id, chunk, parts)
                broadcast.total = min(len(people), start + EXPAND_CHUNK) * len(parts)
            runtime.wake_sender()
        async with runtime.store.transaction() as session:
            broadcast = await store.get_broadcast(session, broadcast_id)
            assert broadcast is not None
            broadcast.total = len(people) * (1 + len(broadcast.extra or []))
            broadcast.expanded = True
    return await _follow(runtime, broadcast_id, job_id)


async def _queue_broadcast(
    session: Any,
    services: Services,
    broadcast_id: int,
    people: list[Recipient],
    parts: list[dict[str, Any]],
) -> None:
    """Queue every part for every person; keys make a re-run skip what was queued."""
    chats: list[outbox.Outgoing] = []
    for person in people:
        for number, part in enumerate(parts):
            key = f"broadcast:{broadcast_id}:{person.resident_id}" + (
                f":{number}" if number else ""
            )
            text = part.get("text") or ""
            if person.channel == "email":
                await _send(session, services, person, text, key, file=part.get("file"))
                continue
            payload: dict[str, Any] = {"text": text}
            if part.get("file"):
                payload["file"] = part["file"]
            chats.append(
                outbox.Outgoing(person.channel, person.address, payload, key, person.resident_id)
            )
    # One INSERT for the chunk instead of a look-up and an insert per message.
    await outbox.enqueue_many(session, chats, priority=BULK, broadcast_id=broadcast_id)


async def _follow(runtime: JobRuntime, broadcast_id: int, job_id: str) -> str:
    tick = 0
    while True:
        async with runtime.store.transaction() as session:
            broadcast = await store.get_broadcast(session, broadcast_id)
            assert broadcast is not None
            counts = await store.progress(session, broadcast_id)
            finished = counts["waiting"] == 0 or broadcast.status == store.CANCELLED
            if finished and broadcast.status != store.CANCELLED:
                broadcast.status = store.DONE
                broadcast.finished_at = utcnow()
            await _report(runtime, session, broadcast, counts, tick, final=finished)
            if finished:
                await store.record_job(session, job_id, f"sent {counts['sent']}")
        runtime.wake_sender()
        if finished:
            return f"sent {counts['sent']} of {broadcast.total}"
        tick += 1
        await asyncio.sleep(runtime.progress_every)


async def _report(
    runtime: JobRuntime,
    session: Any,
    broadcast: store.Broadcast,
    counts: dict[str, int],
    tick: int,
    *,
    final: bool,
) -> None:
    """One progress message for the coordinator, edited in place as the sending goes on."""
    if not broadcast.progress_chat or broadcast.progress_channel != "telegram":
        return
    services = runtime.services
    language = services.translator.default_language
    key = "broadcast.progress_done" if final else "broadcast.progress"
    if broadcast.status == store.CANCELLED:
        key = "broadcast.progress_cancelled"
    text = _text(
        services,
        language,
        key,
        sent=counts["sent"],
        total=broadcast.total,
        blocked=counts["failed"],
        cancelled=counts["cancelled"],
    )
    first_key = f"bprogress:{broadcast.id}:0"
    first = await outbox.find(session, first_key)
    payload: dict[str, Any] = {"text": text}
    if not final:
        stop = services.translator.text(language, "broadcast.stop")
        payload["buttons"] = [[[stop, BroadcastStop(broadcast.id).pack()]]]
    if first is None:
        await outbox.enqueue(
            session,
            channel="telegram",
            recipient=broadcast.progress_chat,
            payload=payload,
            idempotency_key=first_key,
        )
        return
    if first.external_id is None:
        return  # the first report is not delivered yet: nothing to edit
    payload["edit_message_id"] = first.external_id
    await outbox.enqueue(
        session,
        channel="telegram",
        recipient=broadcast.progress_chat,
        payload=payload,
        idempotency_key=f"bprogress:{broadcast.id}:{tick + 1}" + (":final" if final else ""),
    )
