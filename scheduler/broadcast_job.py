"""A broadcast as a job: its audience expanded into the outbox, then its progress reported.

Expanding is resumable (outbox keys per recipient and part) and done in chunks,
so a restart mid-way neither loses nor doubles a message; the coordinator's
progress message is edited in place until the sending is done or cancelled.
"""

from __future__ import annotations

import asyncio
from typing import Any

from handlers.broadcasts import audiences
from handlers.broadcasts.commands import BroadcastStop
from handlers.core.services import Services
from scheduler.runtime import BULK, JobRuntime, channel_of, send, translated
from storage import outbox
from storage import schedule as store
from storage.audiences import Recipient
from storage.types import utcnow

EMAIL = "email"

# Recipients queued per transaction: small enough that the write lock is never held
# for long (SQLite has one; a chunk is one INSERT of a few ms), large enough to keep
# the commits few.
EXPAND_CHUNK = 500


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
                await send(
                    session,
                    services,
                    person,
                    text,
                    key,
                    file=part.get("file"),
                    album=part.get("album"),
                    broadcast_id=broadcast_id,
                )
                continue
            payload: dict[str, Any] = {"text": text}
            if part.get("file"):
                payload["file"] = part["file"]
            if part.get("album"):
                payload["album"] = part["album"]
            chats.append(
                outbox.Outgoing(
                    channel_of(services, person), person.address, payload, key, person.resident_id
                )
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
    if not broadcast.progress_chat or broadcast.progress_channel == EMAIL:
        return  # progress is a chat message, edited in place
    services = runtime.services
    language = services.translator.default_language
    key = "broadcast.progress_done" if final else "broadcast.progress"
    if broadcast.status == store.CANCELLED:
        key = "broadcast.progress_cancelled"
    text = translated(
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
            channel=broadcast.progress_channel,
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
        channel=broadcast.progress_channel,
        recipient=broadcast.progress_chat,
        payload=payload,
        idempotency_key=f"bprogress:{broadcast.id}:{tick + 1}" + (":final" if final else ""),
    )
