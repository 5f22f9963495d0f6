"""The parts of /forget no single feature owns: the outbox and files on disk.

Each feature erases its own rows (its forget hook); what they leave behind is
the outbox, which holds messages to the person and coordinators' notices that
quote them, and the files named by rows that went. See `storage.personal_map`.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from sqlalchemy import String, Text, cast, delete, event, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from storage.models import OutboxMessage
from storage.outbox import EPHEMERAL

log = logging.getLogger(__name__)


async def purge_outbox(
    session: AsyncSession,
    *,
    resident_id: int,
    chats: Sequence[str],
    addresses: Sequence[str],
    key_prefixes: Sequence[str],
    identifiers: Sequence[str],
) -> int:
    """Delete every outbox row to the person or about them, delivered or not.

    To them: their resident id, one of their chats or addresses. About them: a
    notice whose key names one of their questions, proposals or e-mails
    (`key_prefixes`), or whose text quotes one of `identifiers` (their Telegram
    id, an address); broadcasts are left out, they quote no one.
    """
    condition = OutboxMessage.resident_id == resident_id
    if chats:
        condition = or_(condition, OutboxMessage.recipient.in_(list(chats)))
    if addresses:
        lowered = [a.lower() for a in addresses]
        condition = or_(condition, func.lower(OutboxMessage.recipient).in_(lowered))
    for prefix in key_prefixes:
        condition = or_(condition, OutboxMessage.idempotency_key.startswith(prefix))
    doomed = set(await session.scalars(select(OutboxMessage.id).where(condition)))
    doomed |= await _quoting(session, identifiers)
    for chunk in _chunks(sorted(doomed)):
        await session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(chunk)))
    return len(doomed)


async def _quoting(session: AsyncSession, identifiers: Sequence[str]) -> set[int]:
    """Rows whose payload quotes an identifier as a whole word (not inside a number).

    The store narrows the rows down (the payload's JSON text contains the
    identifier as JSON writes it, escapes included); the pattern decides.
    """
    words = [i for i in identifiers if i]
    if not words:
        return set()
    text = func.lower(cast(OutboxMessage.payload, Text))
    contains = [text.contains(json.dumps(w)[1:-1].lower(), autoescape=True) for w in words]
    rows = await session.execute(
        select(OutboxMessage.id, OutboxMessage.payload).where(
            OutboxMessage.broadcast_id.is_(None), or_(*contains)
        )
    )
    pattern = re.compile(
        "|".join(rf"(?<![\w@.]){re.escape(w)}(?![\w@])" for w in words), re.IGNORECASE
    )
    return {row.id for row in rows if pattern.search(json.dumps(row.payload, ensure_ascii=False))}


def _chunks(ids: list[int], size: int = 500) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def purge_replies_once_delivered(session: AsyncSession, *, channel: str, chat: str) -> None:
    """The replies this transaction queues for `chat` (the goodbye after /forget) are
    unlinked and deleted once delivered: they are written after the purge, so they
    are marked just before the commit."""

    def mark(sync_session: Session) -> None:
        sync_session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.channel == channel, OutboxMessage.recipient == chat)
            .values(
                idempotency_key=literal(EPHEMERAL) + cast(OutboxMessage.id, String),
                resident_id=None,
            )
        )

    event.listen(session.sync_session, "before_commit", mark, once=True)


def delete_files_after_commit(session: AsyncSession, root: Path, paths: Iterable[str]) -> None:
    """Files named by rows deleted in this transaction go once it is committed (a
    rolled back erasure keeps them); an emptied folder goes with them."""
    files = sorted(set(paths))
    if not files:
        return

    def delete_files(_session: object) -> None:
        for relative in files:
            path = root / relative
            try:
                path.unlink(missing_ok=True)
                if path.parent != root and not any(path.parent.iterdir()):
                    path.parent.rmdir()
            except OSError as error:
                log.warning("could not delete %s: %s", relative, error)

    event.listen(session.sync_session, "after_commit", delete_files, once=True)
