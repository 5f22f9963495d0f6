"""A resident's e-mails under their rights: shown by /mydata, erased by /forget."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.context import Context
from handlers.core.routing import Router
from storage import mail as store
from storage import personal_data
from storage.models import Resident

log = logging.getLogger(__name__)

router = Router("mailbox.rights")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


async def _emails(session: AsyncSession, resident: Resident) -> list[dict[str, Any]]:
    addresses = await personal_data.proven_addresses(session, resident)
    messages = await store.of_resident(session, resident.id, addresses)
    files = await store.attachments_of(session, [m.id for m in messages])
    return [
        {
            "direction": "received" if m.direction == store.IN else "sent",
            "date": _iso(m.date or m.received_at),
            "from": m.from_address,
            "to": [address for _name, address in m.to or []],
            "subject": m.subject,
            "text": m.text,
            "attachments": [a.filename for a in files.get(m.id, [])],
        }
        for m in messages
    ]


async def _forget_mail(ctx: Context) -> None:
    """/forget: the resident's e-mails are emptied (see `storage.mail.forget_resident`);
    their attachment files are deleted once the erasure is committed."""
    assert ctx.resident is not None
    addresses = await personal_data.proven_addresses(ctx.session, ctx.resident)
    paths = await store.forget_resident(ctx.session, ctx.resident.id, addresses)
    if not paths:
        return
    root = ctx.services.data_dir

    def delete_files(_session: object) -> None:
        for path in paths:
            try:
                (root / path).unlink(missing_ok=True)
            except OSError as error:
                log.warning("could not delete %s: %s", path, error)

    event.listen(ctx.session.sync_session, "after_commit", delete_files, once=True)


personal_data.register("emails", _emails)
router.forget_hook(_forget_mail)
