"""Proven e-mail addresses: the only way mail is linked to a resident.

A resident proves an address by typing back a code e-mailed to it (`start_code`,
`check_code`), or by answering, from that address, the contest's confirmation
e-mail (`expect_reply`, then `prove_by_replies` when the reply arrives). An
address typed into a form proves nothing: anyone can type anyone's address.

`proven_addresses` is what /mydata and /forget may use to reach a person's mail.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.mail.ingest import chunks
from storage.mail.models import AddressChallenge, ProvenAddress

CODE = "code"
REPLY = "reply"
CODE_VALID = timedelta(minutes=30)
REPLY_VALID = timedelta(days=60)
MAX_ATTEMPTS = 5


def _hash(challenge_address: str, code: str) -> str:
    # Keyed by the address, so one code's hash is not the same for every address.
    return hashlib.sha256(f"{challenge_address}\n{code}".encode()).hexdigest()


async def proven_addresses(session: AsyncSession, resident_id: int) -> list[str]:
    """The lower-case addresses this resident proved, oldest proof first."""
    rows = await session.scalars(
        select(ProvenAddress.address)
        .where(ProvenAddress.resident_id == resident_id)
        .order_by(ProvenAddress.proven_at, ProvenAddress.id)
    )
    return list(rows)


async def residents_by_proven(session: AsyncSession, addresses: Iterable[str]) -> dict[str, int]:
    """Lower-case address -> the resident who proved it, for the proven ones."""
    found: dict[str, int] = {}
    for chunk in chunks({a.lower() for a in addresses if a}):
        rows = await session.execute(
            select(ProvenAddress.address, ProvenAddress.resident_id).where(
                ProvenAddress.address.in_(chunk)
            )
        )
        found.update({address: resident_id for address, resident_id in rows.all()})
    return found


async def prove(
    session: AsyncSession, *, resident_id: int, address: str, how: str, at: datetime
) -> None:
    """Record a proof; the address leaves whoever proved it before."""
    address = address.lower()
    row = await session.scalar(select(ProvenAddress).where(ProvenAddress.address == address))
    if row is None:
        session.add(ProvenAddress(resident_id=resident_id, address=address, proven_at=at, how=how))
    else:
        row.resident_id, row.proven_at, row.how = resident_id, at, how
    await session.execute(
        delete(AddressChallenge).where(
            AddressChallenge.resident_id == resident_id, AddressChallenge.address == address
        )
    )
    await session.flush()


async def start_code(
    session: AsyncSession, *, resident_id: int, address: str, code: str, now: datetime
) -> None:
    """A new code for `address` replaces the resident's codes not yet typed."""
    address = address.lower()
    await session.execute(
        delete(AddressChallenge).where(
            AddressChallenge.resident_id == resident_id, AddressChallenge.kind == CODE
        )
    )
    session.add(
        AddressChallenge(
            resident_id=resident_id,
            address=address,
            kind=CODE,
            code_hash=_hash(address, code),
            attempts=0,
            created_at=now,
            expires_at=now + CODE_VALID,
        )
    )
    await session.flush()


@dataclass(frozen=True)
class CodeCheck:
    """What typing a code did: `proven` is the address it proved, else why not."""

    proven: str | None = None
    # "none" (no code waiting), "expired", "wrong" (with `left` attempts), "spent".
    problem: str | None = None
    left: int = 0


async def pending_code(session: AsyncSession, resident_id: int) -> AddressChallenge | None:
    return await session.scalar(
        select(AddressChallenge).where(
            AddressChallenge.resident_id == resident_id, AddressChallenge.kind == CODE
        )
    )


async def check_code(
    session: AsyncSession, *, resident_id: int, code: str, now: datetime
) -> CodeCheck:
    challenge = await pending_code(session, resident_id)
    if challenge is None:
        return CodeCheck(problem="none")
    if now >= challenge.expires_at:
        await session.delete(challenge)
        return CodeCheck(problem="expired")
    if hmac.compare_digest(challenge.code_hash or "", _hash(challenge.address, code.strip())):
        address = challenge.address
        await prove(session, resident_id=resident_id, address=address, how=CODE, at=now)
        return CodeCheck(proven=address)
    challenge.attempts += 1
    left = MAX_ATTEMPTS - challenge.attempts
    if left <= 0:
        await session.delete(challenge)
        return CodeCheck(problem="spent")
    await session.flush()
    return CodeCheck(problem="wrong", left=left)


async def expect_reply(
    session: AsyncSession, *, resident_id: int, address: str, message_id: str, now: datetime
) -> None:
    """A reply from `address` to the e-mail `message_id` will prove the address."""
    session.add(
        AddressChallenge(
            resident_id=resident_id,
            address=address.lower(),
            kind=REPLY,
            message_id=message_id,
            attempts=0,
            created_at=now,
            expires_at=now + REPLY_VALID,
        )
    )
    await session.flush()


async def prove_by_replies(
    session: AsyncSession, replies: Iterable[tuple[str, Iterable[str]]], now: datetime
) -> int:
    """`replies`: (sender address, the Message-IDs it answers). Each reply from the very
    address a confirmation e-mail went to proves it; returns how many did."""
    wanted = [(sender.lower(), set(ids)) for sender, ids in replies if sender]
    ids = {i for _sender, answered in wanted for i in answered}
    if not ids:
        return 0
    challenges: list[AddressChallenge] = []
    for chunk in chunks(ids):
        challenges.extend(
            await session.scalars(
                select(AddressChallenge).where(
                    AddressChallenge.kind == REPLY, AddressChallenge.message_id.in_(chunk)
                )
            )
        )
    proven = 0
    for challenge in challenges:
        if now >= challenge.expires_at:
            continue
        if any(s == challenge.address and challenge.message_id in a for s, a in wanted):
            await prove(
                session,
                resident_id=challenge.resident_id,
                address=challenge.address,
                how=REPLY,
                at=now,
            )
            proven += 1
    return proven


async def forget_proofs(session: AsyncSession, resident_id: int) -> None:
    """/forget: the resident's proven addresses and proofs in progress go."""
    for table in (ProvenAddress, AddressChallenge):
        await session.execute(delete(table).where(table.resident_id == resident_id))
    await session.flush()
