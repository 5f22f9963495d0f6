"""The bridge to the chat's feature code: a coordinator's `Context` for a panel request.

Feature functions (`handlers/contest/*`) take a `Context`, as when the
coordinator acts in chat; this one is made from the signed-in coordinator, in
the panel's own channel name, so a status change writes the same history,
events and messages as one made in chat.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.context import Context
from handlers.core.events import Inbound, Kind
from handlers.routes import ROUTES
from storage import residents

if TYPE_CHECKING:
    from panel.base import PanelHandler

CHANNEL = "panel"


async def coordinator_context(session: AsyncSession, handler: PanelHandler) -> Context:
    assert handler.coordinator is not None
    user_id = handler.coordinator.coordinator_id
    event = Inbound(
        channel=CHANNEL,
        chat_id=str(user_id),
        kind=Kind.COMMAND,
        user_id=user_id,
        is_coordinator=True,
    )
    resident = await residents.find_by_telegram_id(session, user_id)
    return Context(session, event, handler.panel.services, resident, handler.language, ROUTES)
