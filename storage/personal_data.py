"""Everything stored about one resident, for /mydata.

Each part of the product that keeps personal data registers a collector, so
the export grows with the product instead of being rewritten.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import conversations, events, on_behalf, proposals, survey_privacy, surveys
from storage.mail import proofs
from storage.models import OutboxMessage, Resident

Collector = Callable[[AsyncSession, Resident], Awaitable[Any]]
_collectors: dict[str, Collector] = {}


def register(section: str, collector: Collector) -> None:
    _collectors[section] = collector


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


async def proven_addresses(session: AsyncSession, resident: Resident) -> list[str]:
    """The e-mail addresses through which /mydata and /forget reach mail: only those
    the resident has proven (a code sent there, or a reply to our confirmation)."""
    return await proofs.proven_addresses(session, resident.id)


async def _profile(session: AsyncSession, resident: Resident) -> dict[str, Any]:
    return {
        "id": resident.id,
        "telegram_id": resident.telegram_id,
        "email": resident.email,
        "name": resident.name,
        "language": resident.language,
        "consent_given_at": _iso(resident.consent_given_at),
        "consent_withdrawn_at": _iso(resident.consent_withdrawn_at),
        "subscribed": resident.subscribed,
        "blocked": resident.blocked,
        "created_at": _iso(resident.created_at),
    }


async def _conversation(session: AsyncSession, resident: Resident) -> dict[str, Any] | None:
    current = await conversations.current(session, resident.id)
    if current is None:
        return None
    return {
        "flow": current.flow,
        "step": current.step,
        "answers": current.answers,
        "updated_at": _iso(current.updated_at),
    }


async def _events(session: AsyncSession, resident: Resident) -> list[dict[str, Any]]:
    return [
        {"at": _iso(e.at), "kind": e.kind, "data": e.data}
        for e in await events.of_resident(session, resident.id)
    ]


async def _messages(session: AsyncSession, resident: Resident) -> list[dict[str, Any]]:
    """Messages to them still stored: linked to them, or to their chat or proven address."""
    condition = OutboxMessage.resident_id == resident.id
    if resident.telegram_id is not None:
        condition = or_(condition, OutboxMessage.recipient == str(resident.telegram_id))
    addresses = await proven_addresses(session, resident)
    if addresses:
        condition = or_(condition, func.lower(OutboxMessage.recipient).in_(addresses))
    rows = await session.scalars(select(OutboxMessage).where(condition).order_by(OutboxMessage.id))
    return [
        {
            "channel": m.channel,
            "created_at": _iso(m.created_at),
            "status": m.status,
            "sent_at": _iso(m.sent_at),
            "subject": m.payload.get("subject"),
            "text": m.payload.get("text"),
        }
        for m in rows
    ]


async def _survey_responses(session: AsyncSession, resident: Resident) -> list[dict[str, Any]]:
    return [
        {
            "survey": r.survey,
            "status": r.status,
            "started_at": _iso(r.started_at),
            "finished_at": _iso(r.finished_at),
            "answers": r.answers,
        }
        for r in await surveys.of_resident(session, resident.id)
    ]


async def _anonymous_surveys(session: AsyncSession, resident: Resident) -> list[dict[str, Any]]:
    """Anonymous surveys finished: only that they took part; the answers have no link."""
    return [
        {"survey": slug, "answers_linked_to_you": False}
        for slug in await survey_privacy.participated_in(session, resident.id)
    ]


async def _survey_contacts(session: AsyncSession, resident: Resident) -> list[dict[str, Any]]:
    """The contact part of anonymous surveys, kept apart from the answers, with consent."""
    return [
        {
            "survey": c.survey,
            "consent_to_contact": c.consent,
            "interest": c.interest,
            "contact_details": c.details,
            "given_on": _iso(c.given_on),
        }
        for c in await survey_privacy.contacts_of(session, resident.id)
    ]


async def _proposals(session: AsyncSession, resident: Resident) -> list[dict[str, Any]]:
    """Drafts and submitted proposals: answers, budget, files (name and size), history,
    and the proposal as it was at each submission."""
    found = []
    for p in await proposals.of_resident(session, resident.id):
        files = await proposals.attachments(session, p.id)
        history = await proposals.history(session, p.id)
        found.append(
            {
                "contest": p.contest,
                "number": p.number,
                "status": p.status,
                "created_at": _iso(p.created_at),
                "submitted_at": _iso(p.submitted_at),
                "answers": p.answers,
                "budget": p.budget,
                "files": [{"name": f.name, "size": f.size} for f in files],
                "as_submitted": [
                    {
                        "at": _iso(s.taken_at),
                        "kind": s.kind,
                        "answers": s.answers,
                        "budget": s.budget,
                        "files": s.files,
                    }
                    for s in await proposals.snapshots(session, p.id)
                ],
                "history": [
                    {
                        "at": _iso(h.at),
                        "kind": h.kind,
                        "from_status": h.from_status,
                        "to_status": h.to_status,
                        "note": h.note,
                    }
                    for h in history
                ],
            }
        )
    return found


async def _entries_on_behalf(session: AsyncSession, resident: Resident) -> list[dict[str, Any]]:
    """What a coordinator entered for them (a paper questionnaire, a proposal by phone)."""
    return [
        {
            "number": e.id,
            "kind": e.kind,
            "subject": e.subject,
            "channel": e.channel,
            "consent": e.consent_note,
            "name": e.name,
            "email": e.email,
            "entered_on": _iso(e.entered_on),
        }
        for e in await on_behalf.of_resident(session, resident.id)
    ]


register("profile", _profile)
register("conversation_in_progress", _conversation)
register("survey_responses", _survey_responses)
register("anonymous_surveys_taken", _anonymous_surveys)
register("survey_contact_details", _survey_contacts)
register("proposals", _proposals)
register("entries_on_behalf", _entries_on_behalf)
register("events", _events)
register("messages_to_you", _messages)


async def collect(session: AsyncSession, resident: Resident) -> dict[str, Any]:
    return {section: await fn(session, resident) for section, fn in _collectors.items()}
