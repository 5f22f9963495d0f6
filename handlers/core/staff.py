"""A coordinator's working row: where their typed tasks keep state between messages.

Conversations in progress are rows tied to a resident (state lives in the store).
A coordinator who types a note for an applicant or an answer to a resident's
question needs one too, but may never have consented as a resident: they get a
row without consent that only anchors their conversations (it counts nowhere as
a resident, and `/start` later turns it into a resident's row).
"""

from __future__ import annotations

from handlers.core.context import Context
from storage import residents
from storage.models import Resident


async def working_row(ctx: Context) -> Resident:
    """The coordinator's row, made on first need; `ctx.resident` is set to it."""
    if ctx.resident is not None:
        return ctx.resident
    assert ctx.event.user_id is not None, "coordinators are known by their user id"
    ctx.resident = await residents.create_without_consent(
        ctx.session,
        telegram_id=ctx.event.user_id,
        name=ctx.event.display_name,
        language=ctx.language,
    )
    return ctx.resident
