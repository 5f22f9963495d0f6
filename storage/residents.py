"""Queries about residents: finding, creating, consent and erasure."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import conversations
from storage.models import Conversation, Resident
from storage.types import utcnow

_BY_TELEGRAM_ID = (
    select(Resident, Conversation)
    .outerjoin(Conversation, Conversation.resident_id == Resident.id)
    .where(Resident.telegram_id == bindparam("telegram_id"))
)


async def find_by_telegram_id(session: AsyncSession, telegram_id: int) -> Resident | None:
    """The resident; their current conversation comes in the same query (events need both)."""
    row = (await session.execute(_BY_TELEGRAM_ID, {"telegram_id": telegram_id})).first()
    if row is None:
        return None
    resident, conversation = row
    conversations.remember(session, resident.id, conversation)
    return resident


async def get(session: AsyncSession, resident_id: int) -> Resident | None:
    return await session.get(Resident, resident_id)


async def languages_of(session: AsyncSession, telegram_ids: Iterable[int]) -> dict[int, str]:
    """{telegram id: chosen language} of those among `telegram_ids` who have a row."""
    rows = await session.execute(
        select(Resident.telegram_id, Resident.language).where(
            Resident.telegram_id.in_(list(telegram_ids))
        )
    )
    return {int(telegram_id): language for telegram_id, language in rows.all()}


async def create_with_consent(
    session: AsyncSession, *, telegram_id: int | None, name: str | None, language: str
) -> Resident:
    now = utcnow()
    resident = Resident(
        telegram_id=telegram_id,
        name=name,
        language=language,
        consent_given_at=now,
        subscribed=False,
        blocked=False,
        created_at=now,
        last_active_at=now,
    )
    session.add(resident)
    await session.flush()
    return resident


async def create_without_consent(
    session: AsyncSession, *, telegram_id: int, name: str | None, language: str
) -> Resident:
    """A row for someone who works with the bot (a coordinator) but has not consented
    as a resident: it only anchors their conversations in progress."""
    resident = Resident(
        telegram_id=telegram_id,
        name=name,
        language=language,
        subscribed=False,
        blocked=False,
        created_at=utcnow(),
    )
    session.add(resident)
    await session.flush()
    return resident


async def give_consent(
    session: AsyncSession, resident: Resident, *, name: str | None, language: str
) -> Resident:
    """Consent on an existing row (a coordinator's working row becomes a resident)."""
    resident.consent_given_at = utcnow()
    resident.consent_withdrawn_at = None
    resident.name = name or resident.name
    resident.language = language
    await session.flush()
    return resident


async def set_language(session: AsyncSession, resident: Resident, *, language: str) -> None:
    resident.language = language
    await session.flush()


async def set_subscribed(session: AsyncSession, resident: Resident, *, subscribed: bool) -> None:
    resident.subscribed = subscribed
    await session.flush()


async def mark_blocked(session: AsyncSession, *, resident_id: int, blocked: bool = True) -> None:
    await session.execute(
        update(Resident).where(Resident.id == resident_id).values(blocked=blocked)
    )


# The retention period counts in months: noting activity once a day is enough,
# and spares a write on every message.
ACTIVITY_STEP = timedelta(days=1)


async def mark_reachable(session: AsyncSession, resident: Resident) -> None:
    """A resident who writes to us again has unblocked the bot, and is active."""
    now = utcnow()
    last = resident.last_active_at
    if resident.blocked or last is None or now - last >= ACTIVITY_STEP:
        resident.blocked = False
        resident.last_active_at = now
        await session.flush()


async def forget(session: AsyncSession, resident: Resident) -> None:
    """Erase personal data; the row stays as an anonymous id for kept answers.

    The outbox is purged by `storage.erasure.purge_outbox`, before this."""
    now = utcnow()
    resident.telegram_id = None
    resident.email = None
    resident.name = None
    resident.subscribed = False
    resident.last_active_at = None
    resident.consent_withdrawn_at = now
    resident.forgotten_at = now
    await conversations.end(session, resident.id)
    await session.flush()


async def counts(session: AsyncSession) -> dict[str, int]:
    """Numbers the coordinator's panel shows."""
    active = Resident.forgotten_at.is_(None)
    consented = active & Resident.consent_given_at.is_not(None)
    row = (
        await session.execute(
            select(
                func.count().filter(consented),
                func.count().filter(consented & Resident.subscribed.is_(True)),
                func.count().filter(consented & Resident.blocked.is_(True)),
                func.count().filter(Resident.forgotten_at.is_not(None)),
            )
        )
    ).one()
    return {"residents": row[0], "subscribed": row[1], "blocked": row[2], "forgotten": row[3]}
