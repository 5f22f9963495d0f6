"""Who receives a broadcast or a reminder: residents who agreed and subscribed.

Every query keeps to residents with consent who subscribed to news and have
not blocked the bot, so an unsubscribed resident never gets a broadcast.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import CompoundSelect, Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Resident, SurveyParticipation, SurveyResponse
from storage.proposals import ContestOutcome, Proposal

NOT_APPLICANTS = ("draft", "withdrawn")
# A resident's chat: Telegram when the bot runs there, the terminal in `lokalnie chat`.
# The store knows the person's chat id, not which chat channel this process serves.
CHAT = "chat"


@dataclass(frozen=True)
class Recipient:
    resident_id: int
    channel: str
    address: str
    language: str


def _reachable() -> Select:
    return select(Resident).where(
        Resident.consent_given_at.is_not(None),
        Resident.consent_withdrawn_at.is_(None),
        Resident.blocked.is_(False),
    )


def _recipients(residents: Iterable[Any]) -> list[Recipient]:
    found = []
    for r in residents:
        if r.telegram_id is not None:
            found.append(Recipient(r.id, CHAT, str(r.telegram_id), r.language))
        elif r.email:
            found.append(Recipient(r.id, "email", r.email, r.language))
    return found


async def _run(session: AsyncSession, query: Select) -> list[Recipient]:
    # Only the columns a recipient needs, as plain rows: an audience of thousands is
    # counted for the panel's live count, and full ORM objects cost ten times more.
    columns = query.with_only_columns(
        Resident.id, Resident.telegram_id, Resident.email, Resident.language
    )
    rows = (await session.execute(columns.order_by(Resident.id))).all()
    unique = list({r.id: r for r in rows}.values())
    return _recipients(unique)


async def subscribers(session: AsyncSession) -> list[Recipient]:
    return await _run(session, _reachable().where(Resident.subscribed.is_(True)))


async def email_subscribers(session: AsyncSession) -> list[Recipient]:
    query = _reachable().where(
        Resident.subscribed.is_(True), Resident.telegram_id.is_(None), Resident.email.is_not(None)
    )
    return await _run(session, query)


def _finished(survey: str) -> CompoundSelect:
    """Residents who finished the survey: a linked response, or (anonymous) a participation.

    Without NULLs: finished anonymous responses have no resident, and one NULL
    would make `NOT IN` match nobody.
    """
    linked = select(SurveyResponse.resident_id).where(
        SurveyResponse.survey == survey,
        SurveyResponse.status == "finished",
        SurveyResponse.resident_id.is_not(None),
    )
    sealed = select(SurveyParticipation.resident_id).where(SurveyParticipation.survey == survey)
    return linked.union(sealed)


async def respondents(session: AsyncSession, survey: str) -> list[Recipient]:
    query = (
        _reachable().where(Resident.subscribed.is_(True)).where(Resident.id.in_(_finished(survey)))
    )
    return await _run(session, query)


async def unfinished_respondents(session: AsyncSession, survey: str) -> list[Recipient]:
    """For the reminder before a survey closes: started it, did not finish (and no other
    finished response). A reminder about one's own survey needs no news subscription."""
    query = (
        _reachable()
        .join(SurveyResponse, SurveyResponse.resident_id == Resident.id)
        .where(SurveyResponse.survey == survey, SurveyResponse.status == "started")
        .where(Resident.id.not_in(_finished(survey)))
    )
    return await _run(session, query)


async def applicants(session: AsyncSession, contest: str) -> list[Recipient]:
    query = (
        _reachable()
        .where(Resident.subscribed.is_(True))
        .join(Proposal, Proposal.resident_id == Resident.id)
        .where(Proposal.contest == contest, Proposal.status.not_in(NOT_APPLICANTS))
    )
    return await _run(session, query)


async def draft_holders(session: AsyncSession, contest: str) -> list[Recipient]:
    """For the reminder before the call closes: residents with an unsent draft."""
    query = (
        _reachable()
        .join(Proposal, Proposal.resident_id == Resident.id)
        .where(Proposal.contest == contest, Proposal.status == "draft")
    )
    return await _run(session, query)


async def winners(session: AsyncSession, contest: str) -> list[Recipient]:
    query = (
        _reachable()
        .where(Resident.subscribed.is_(True))
        .join(Proposal, Proposal.resident_id == Resident.id)
        .join(ContestOutcome, ContestOutcome.proposal_id == Proposal.id)
        .where(ContestOutcome.contest == contest, ContestOutcome.selected.is_(True))
    )
    return await _run(session, query)


async def residents_by_id(session: AsyncSession, ids: list[int]) -> list[Recipient]:
    query = _reachable().where(Resident.subscribed.is_(True), Resident.id.in_(ids))
    return await _run(session, query)
