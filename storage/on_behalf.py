"""Entries made on behalf of residents: the stand-in resident, the entry, the counts.

The channel of an entry (paper, phone, in person) is also written on the survey
response or the proposal it made, so results and exports can count and filter
by channel without the entry (which an anonymous survey cuts from the answers).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, tzinfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import EntryOnBehalf, Proposal, Resident, SurveyResponse

PAPER, PHONE, IN_PERSON = "paper", "phone", "in_person"
CHANNELS = (PAPER, PHONE, IN_PERSON)
SIGNED, ORAL = "signed", "oral"
CONSENTS = (SIGNED, ORAL)
SURVEY, PROPOSAL = "survey", "proposal"
OPEN, DONE = "open", "done"


def day_of(moment: datetime, timezone: tzinfo = UTC) -> datetime:
    """The centre's calendar day of `moment`, kept as midnight UTC: a date for the
    receipt that cannot be matched with an answer's time."""
    local = moment.astimezone(timezone)
    return datetime(local.year, local.month, local.day, tzinfo=UTC)


async def create_stand_in(
    session: AsyncSession, *, name: str | None, language: str, day: datetime
) -> Resident:
    """A resident row for the person: no chat, consent given (on paper or orally) that day."""
    resident = Resident(
        telegram_id=None,
        name=name,
        language=language,
        consent_given_at=day,
        subscribed=False,
        blocked=False,
        created_at=day,
        last_active_at=day,
    )
    session.add(resident)
    await session.flush()
    return resident


async def create(
    session: AsyncSession,
    *,
    kind: str,
    subject: str,
    channel: str,
    consent: str,
    consent_note: str,
    resident_id: int,
    name: str | None,
    email: str | None,
    entered_by: int,
    day: datetime,
    response_id: int | None = None,
    proposal_id: int | None = None,
) -> EntryOnBehalf:
    assert kind in (SURVEY, PROPOSAL) and channel in CHANNELS and consent in CONSENTS
    entry = EntryOnBehalf(
        kind=kind,
        subject=subject,
        channel=channel,
        consent=consent,
        consent_note=consent_note,
        resident_id=resident_id,
        name=name,
        email=email,
        entered_by=entered_by,
        entered_on=day,
        response_id=response_id,
        proposal_id=proposal_id,
        status=OPEN,
    )
    session.add(entry)
    await session.flush()
    return entry


async def get(session: AsyncSession, entry_id: int) -> EntryOnBehalf | None:
    return await session.get(EntryOnBehalf, entry_id)


async def open_for_response(session: AsyncSession, response_id: int) -> EntryOnBehalf | None:
    return await session.scalar(
        select(EntryOnBehalf).where(
            EntryOnBehalf.response_id == response_id, EntryOnBehalf.status == OPEN
        )
    )


async def for_proposal(session: AsyncSession, proposal_id: int) -> EntryOnBehalf | None:
    return await session.scalar(
        select(EntryOnBehalf)
        .where(EntryOnBehalf.proposal_id == proposal_id)
        .order_by(EntryOnBehalf.id.desc())
        .limit(1)
    )


async def entered_by(session: AsyncSession, *, proposal_id: int) -> int | None:
    """The coordinator who enters (or entered) this proposal for someone; None if nobody."""
    entry = await for_proposal(session, proposal_id)
    return entry.entered_by if entry is not None else None


async def finish(session: AsyncSession, entry: EntryOnBehalf, *, anonymous: bool) -> None:
    """The entry is complete; an anonymous survey's response loses its link to it."""
    entry.status = DONE
    if anonymous:
        entry.response_id = None
    await session.flush()


async def of_resident(session: AsyncSession, resident_id: int) -> list[EntryOnBehalf]:
    return list(
        await session.scalars(
            select(EntryOnBehalf)
            .where(EntryOnBehalf.resident_id == resident_id)
            .order_by(EntryOnBehalf.id)
        )
    )


async def forget_resident(session: AsyncSession, resident_id: int) -> None:
    """For /forget: the name and address go, the consent record stays, unlinked."""
    for entry in await of_resident(session, resident_id):
        entry.name = None
        entry.email = None
        entry.resident_id = None
    await session.flush()


async def survey_channels(session: AsyncSession, survey: str) -> dict[str, int]:
    """Finished responses of a survey entered on behalf of residents, per channel."""
    rows = await session.execute(
        select(SurveyResponse.channel, func.count())
        .where(
            SurveyResponse.survey == survey,
            SurveyResponse.status == "finished",
            SurveyResponse.channel.in_(CHANNELS),
        )
        .group_by(SurveyResponse.channel)
    )
    return _ordered({channel: count for channel, count in rows.all()})


async def proposal_channels(session: AsyncSession, contest: str) -> dict[str, int]:
    """Submitted proposals of a contest entered on behalf of residents, per channel."""
    rows = await session.execute(
        select(Proposal.channel, func.count())
        .where(
            Proposal.contest == contest,
            Proposal.number.is_not(None),
            Proposal.channel.in_(CHANNELS),
        )
        .group_by(Proposal.channel)
    )
    return _ordered({channel: count for channel, count in rows.all()})


def _ordered(counts: dict[str, int]) -> dict[str, int]:
    return {channel: counts.get(channel, 0) for channel in CHANNELS}


def count_by_channel(channels: Collection[str]) -> dict[str, int]:
    """The on-behalf channels among already loaded responses' or proposals' channels."""
    found = list(channels)
    return {channel: found.count(channel) for channel in CHANNELS}
