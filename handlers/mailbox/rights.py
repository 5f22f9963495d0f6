"""A resident's e-mails under their rights: shown by /mydata, erased by /forget.

Only mail linked to the resident or from an address they proved counts: an address
typed somewhere (a form, a proposal) is nobody's proof, and through it one person
would read or erase another's mail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.context import Context
from handlers.core.routing import Router
from storage import mail as store
from storage import personal_data
from storage.erasure import delete_files_after_commit
from storage.models import Resident

router = Router("mailbox.rights")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


async def _emails(session: AsyncSession, resident: Resident) -> list[dict[str, Any]]:
    proven = await store.proven_addresses(session, resident.id)
    messages = await store.of_resident(session, resident.id, proven)
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
    proven = await store.proven_addresses(ctx.session, ctx.resident.id)
    paths = await store.forget_resident(ctx.session, ctx.resident.id, proven)
    await store.proofs.forget_proofs(ctx.session, ctx.resident.id)
    delete_files_after_commit(ctx.session, ctx.services.data_dir, paths)


async def _proven_addresses(session: AsyncSession, resident: Resident) -> list[str]:
    return await store.proven_addresses(session, resident.id)


personal_data.register("emails", _emails)
personal_data.register("proven_addresses", _proven_addresses)
router.forget_hook(_forget_mail)
