"""The conversation a resident is in the middle of (one at a time)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from storage.models import Conversation
from storage.types import utcnow

_CURRENT = select(Conversation).where(Conversation.resident_id == bindparam("resident_id"))
_ADVANCE = (
    update(Conversation.__table__)
    .where(Conversation.__table__.c.id == bindparam("conversation_id"))
    .values(step=bindparam("step"), answers=bindparam("answers"), updated_at=bindparam("now"))
)


def remember(session: AsyncSession, resident_id: int, conversation: Conversation | None) -> None:
    """Note the resident's conversation as read in this transaction (see `current`)."""
    session.info[("conversation", resident_id)] = conversation


async def current(session: AsyncSession, resident_id: int) -> Conversation | None:
    """The resident's conversation, read once per transaction (routing and the flow both ask)."""
    key = ("conversation", resident_id)
    if key in session.info:
        return session.info[key]  # type: ignore[no-any-return]
    conversation = await session.scalar(_CURRENT, {"resident_id": resident_id})
    remember(session, resident_id, conversation)
    return conversation


async def begin(
    session: AsyncSession,
    *,
    resident_id: int,
    flow: str,
    step: str,
    answers: dict[str, Any] | None = None,
) -> Conversation:
    """Start a flow, replacing whatever the resident was doing before."""
    await session.execute(delete(Conversation).where(Conversation.resident_id == resident_id))
    conversation = Conversation(
        resident_id=resident_id, flow=flow, step=step, answers=answers or {}, updated_at=utcnow()
    )
    session.add(conversation)
    await session.flush()
    remember(session, resident_id, conversation)
    return conversation


async def advance(
    session: AsyncSession,
    conversation: Conversation,
    *,
    step: str,
    answers: dict[str, Any] | None = None,
) -> None:
    """Move to `step` (and replace the flow's answers): one UPDATE, written at once."""
    values = {
        "step": step,
        # A new dict, so a later change to the caller's one is not shared.
        "answers": dict(answers) if answers is not None else conversation.answers,
        "now": utcnow(),
    }
    await session.execute(_ADVANCE, {"conversation_id": conversation.id, **values})
    set_committed_value(conversation, "step", step)
    set_committed_value(conversation, "answers", values["answers"])
    set_committed_value(conversation, "updated_at", values["now"])


async def end(session: AsyncSession, resident_id: int) -> bool:
    """Leave the current flow; tells whether there was one."""
    result = await session.execute(
        delete(Conversation).where(Conversation.resident_id == resident_id)
    )
    remember(session, resident_id, None)
    return bool(result.rowcount)
