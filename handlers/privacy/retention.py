"""Erasing a resident whose retention period is over, the way /forget does.

Every feature's /forget hook runs (survey answers, proposals, questions, mail),
then the resident's personal fields are erased. The hooks take a `Context`: the
one built here belongs to no channel and queues no reply.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.context import Context
from handlers.core.events import Inbound, Kind
from handlers.core.services import Services
from handlers.routes import ROUTES
from storage import events, residents
from storage.db import Store
from storage.models import Resident

# Not a channel anyone writes on: marks the erasure as the retention job's.
CHANNEL = "retention"


async def erase(session: AsyncSession, services: Services, resident: Resident) -> None:
    """Erase one resident (in the caller's transaction), like a confirmed /forget."""
    event = Inbound(channel=CHANNEL, chat_id="", kind=Kind.COMMAND, command="forget")
    ctx = Context(session, event, services, resident, resident.language, ROUTES)
    resident_id = resident.id
    for hook in ROUTES.forget_hooks:
        await hook(ctx)
    await residents.forget(ctx.session, resident)
    await events.record(ctx.session, "forgotten", resident_id=resident_id, data={"by": CHANNEL})


async def erase_inactive(store: Store, services: Services, inactive: list[int]) -> int:
    """Erase these residents (by id), one transaction each; how many were erased."""
    erased = 0
    for resident_id in inactive:
        async with store.transaction() as session:
            resident = await residents.get(session, resident_id)
            if resident is None or resident.forgotten_at is not None:
                continue
            await erase(session, services, resident)
            erased += 1
    return erased
