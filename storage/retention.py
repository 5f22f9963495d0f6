"""Retention: what is stored, how old it is, and what goes once it is past its period.

Each category is a set of rows with the moment its age counts from. Personal
categories are kept for the centre's period (content/centre.yaml,
`retention.months`); technical ones, which only make delivery and deduplication
work, for a short fixed time (never longer than the centre's period). What each
category's removal does is written in docs/privacy.md.

Residents are not erased here: erasing a person runs every feature's /forget
hook (handlers/privacy/retention.py). This module only finds them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.mail.models import (
    MailAcknowledgement,
    MailAttachment,
    MailMessage,
    MailThread,
)
from storage.models import (
    Conversation,
    Event,
    InboundReceipt,
    InboundUpdate,
    OutboxMessage,
    Proposal,
    Resident,
    ResidentQuestion,
    SurveyContact,
    SurveyResponse,
)

# Technical records: an update is redelivered within a day, a delivery problem is
# looked into within weeks.
RECEIPTS_KEPT = timedelta(days=30)
# A raw update is only needed until it is handled; a week leaves room to look into one.
UPDATES_KEPT = timedelta(days=7)
DELIVERED_KEPT = timedelta(days=90)

# Age buckets of the report, in months (the last bucket is "older").
BUCKETS = (1, 6, 12, 24, 60)
FINISHED = ("sent", "failed", "cancelled")


def months(count: int) -> timedelta:
    """A retention period in months, as the job measures it (30-day months)."""
    return timedelta(days=30 * count)


@dataclass(frozen=True)
class Category:
    name: str
    model: type
    # The moment the age counts from.
    since: Any
    # Which rows of the table belong to the category (None: all).
    where: Any
    # What happens past the period: "erase", "delete", "empty", or "keep".
    action: str
    # None: the centre's period; else this fixed one (capped by the centre's).
    kept: timedelta | None = None


def _resident_since() -> ColumnElement[datetime]:
    return func.coalesce(Resident.last_active_at, Resident.consent_given_at, Resident.created_at)


CATEGORIES: tuple[Category, ...] = (
    Category("residents", Resident, _resident_since(), Resident.forgotten_at.is_(None), "erase"),
    Category("conversations", Conversation, Conversation.updated_at, None, "delete"),
    Category(
        "survey responses (finished)",
        SurveyResponse,
        SurveyResponse.finished_at,
        SurveyResponse.finished_at.is_not(None),
        "delete",
    ),
    Category(
        "survey responses (unfinished)",
        SurveyResponse,
        SurveyResponse.updated_at,
        SurveyResponse.finished_at.is_(None),
        "delete",
    ),
    Category("survey contacts", SurveyContact, SurveyContact.given_on, None, "delete"),
    Category(
        "questions (/ask)",
        ResidentQuestion,
        func.coalesce(ResidentQuestion.answered_at, ResidentQuestion.asked_at),
        None,
        "delete",
    ),
    Category(
        "e-mails", MailMessage, MailMessage.received_at, MailMessage.erased_at.is_(None), "empty"
    ),
    Category(
        "e-mail acknowledgements", MailAcknowledgement, MailAcknowledgement.sent_at, None, "delete"
    ),
    Category("events", Event, Event.at, None, "delete"),
    Category(
        "outbox (delivered, failed, cancelled)",
        OutboxMessage,
        func.coalesce(OutboxMessage.sent_at, OutboxMessage.created_at),
        OutboxMessage.status.in_(FINISHED),
        "delete",
        DELIVERED_KEPT,
    ),
    Category(
        "outbox (waiting)",
        OutboxMessage,
        OutboxMessage.created_at,
        OutboxMessage.status.not_in(FINISHED),
        "keep",
    ),
    Category(
        "inbound receipts",
        InboundReceipt,
        InboundReceipt.received_at,
        None,
        "delete",
        RECEIPTS_KEPT,
    ),
    Category(
        "inbound updates (handled)",
        InboundUpdate,
        InboundUpdate.received_at,
        InboundUpdate.handled_at.is_not(None),
        "delete",
        UPDATES_KEPT,
    ),
    # Kept for the grant's accounting; the applicant's personal data goes when
    # the applicant is erased (the proposals' /forget hook).
    Category(
        "proposals (submitted)",
        Proposal,
        Proposal.submitted_at,
        Proposal.submitted_at.is_not(None),
        "keep",
    ),
    Category(
        "proposals (drafts)",
        Proposal,
        Proposal.updated_at,
        Proposal.submitted_at.is_(None),
        "keep",
    ),
)


def cutoff(category: Category, now: datetime, period: timedelta) -> datetime:
    kept = period if category.kept is None else min(category.kept, period)
    return now - kept


def _filters(category: Category) -> list[Any]:
    return [] if category.where is None else [category.where]


@dataclass(frozen=True)
class Line:
    """One category of the report: counts per age bucket and past retention."""

    name: str
    action: str
    kept: timedelta
    total: int
    buckets: tuple[int, ...]
    past: int


async def report(session: AsyncSession, *, now: datetime, period: timedelta) -> list[Line]:
    """Counts of every category by age (BUCKETS, in months), and how many are past."""
    lines = []
    for category in CATEGORIES:
        since = category.since
        edges = [now - months(m) for m in BUCKETS]
        columns = [func.count()]
        upper = None
        for edge in edges:
            newer = since >= edge
            columns.append(func.count().filter(newer if upper is None else newer & (since < upper)))
            upper = edge
        columns.append(func.count().filter(since < upper))
        limit = cutoff(category, now, period)
        columns.append(func.count().filter(since < limit))
        row = (
            await session.execute(
                select(*columns).select_from(category.model).where(*_filters(category))
            )
        ).one()
        past = row[-1]
        lines.append(
            Line(category.name, category.action, now - limit, row[0], tuple(row[1:-1]), past)
        )
    return lines


async def inactive_residents(
    session: AsyncSession, *, now: datetime, period: timedelta, limit: int = 200
) -> list[Resident]:
    """Residents (not yet erased) whose last activity is older than the period."""
    return list(
        await session.scalars(
            select(Resident)
            .where(Resident.forgotten_at.is_(None), _resident_since() < now - period)
            .order_by(Resident.id)
            .limit(limit)
        )
    )


async def delete_expired(
    session: AsyncSession, *, now: datetime, period: timedelta
) -> dict[str, int]:
    """Delete the rows of every "delete" category past its period; counts by category."""
    removed: dict[str, int] = {}
    for category in CATEGORIES:
        if category.action != "delete":
            continue
        table = category.model.__table__
        result = await session.execute(
            delete(table).where(*_filters(category), category.since < cutoff(category, now, period))
        )
        removed[category.name] = result.rowcount or 0
    return removed


async def empty_old_mail(
    session: AsyncSession, *, now: datetime, period: timedelta
) -> tuple[int, list[str]]:
    """Erase the content of e-mails past the period; the attachment files no longer used.

    The rows stay, emptied, like after /forget: a resync of the mailbox must not
    import them again. Threads whose last message is past the period lose their
    subject and address.
    """
    limit = now - period
    old = MailMessage.erased_at.is_(None) & (MailMessage.received_at < limit)
    ids = list(await session.scalars(select(MailMessage.id).where(old)))
    if not ids:
        return 0, []
    paths = set(
        await session.scalars(
            select(MailAttachment.path).where(
                MailAttachment.message_id.in_(ids), MailAttachment.path.is_not(None)
            )
        )
    )
    await session.execute(delete(MailAttachment).where(MailAttachment.message_id.in_(ids)))
    still_used = set(
        await session.scalars(select(MailAttachment.path).where(MailAttachment.path.in_(paths)))
    )
    await session.execute(
        update(MailMessage)
        .where(MailMessage.id.in_(ids))
        .values(
            subject="",
            from_name="",
            from_address="",
            to=[],
            cc=[],
            reply_to=[],
            text="",
            html=None,
            headers=[],
            raw=None,
            reference_ids=[],
            resident_id=None,
            erased_at=now,
        )
    )
    await session.execute(
        update(MailThread)
        .where(MailThread.last_message_at < limit)
        .values(subject="", subject_key="", counterpart="", resident_id=None)
    )
    return len(ids), sorted(paths - still_used)
