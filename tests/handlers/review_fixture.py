"""Submitted proposals written straight into the store (no resident flow needed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.contest.model import Contest
from storage import proposals, residents
from storage.db import Store

SUBMITTED_FROM = datetime(2030, 5, 15, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Made:
    id: int
    number: str


async def submit(
    session: AsyncSession,
    contest: Contest,
    *,
    title: str,
    amounts: list[str],
    telegram_id: int | None = None,
    email: str = "kgw@example.pl",
    channel: str = "console",
    minutes: int = 0,
) -> Made:
    """A proposal as the resident flow leaves it after submission."""
    resident = await residents.find_by_telegram_id(session, telegram_id) if telegram_id else None
    proposal = await proposals.create_draft(
        session,
        contest=contest.slug,
        resident_id=resident.id if resident else None,
        language="pl",
        channel=channel,
    )
    await proposals.record(session, proposal, "created")
    answers = {
        "typ": {"choice": "grupa"},
        "wnioskodawca": "Koło Gospodyń Wiejskich",
        "email": email,
        "telefon": "+48600100200",
        "tytul": title,
        "opis": "Wieczór tańców ludowych dla całej wsi.",
        "liczba": 120,
    }
    for question, value in answers.items():
        await proposals.set_answer(session, proposal, question, value)
    lines = [
        {"item": f"Pozycja {i}", "amount": f"{Decimal(a):.2f}"} for i, a in enumerate(amounts, 1)
    ]
    await proposals.set_budget(session, proposal, lines)
    proposal.number = await proposals.next_number(
        session, contest=contest.slug, prefix=contest.number_prefix
    )
    proposal.submitted_at = SUBMITTED_FROM + timedelta(minutes=minutes)
    await proposals.record(session, proposal, "submitted", to_status=proposals.SUBMITTED)
    return Made(proposal.id, proposal.number)


async def submit_in(store: Store, contest: Contest, **values: object) -> Made:
    async with store.transaction() as session:
        return await submit(session, contest, **values)  # type: ignore[arg-type]
