"""Storing batches of parsed mail on both stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import Service
from handlers.mailbox.events import Address, IncomingAttachment, IncomingMail
from handlers.mailbox.receiving import MailPolicy, receive_mail
from storage import mail as mail_store
from storage.mail import MailAttachment, MailMessage, MailThread
from storage.models import Resident
from tests.conftest import make_settings

CENTRE = "bot@lokalnie.test"
PROVIDER = "mx.lokalnie.test"
POLICY = MailPolicy(
    notify=False, own_addresses=frozenset({CENTRE}), baseline=True, authserv_id=PROVIDER
)


def mail(number: int, **values: object) -> IncomingMail:
    fields: dict[str, object] = {
        "message_id": f"m{number}@example.pl",
        "subject": f"Sprawa {number}",
        "sender": Address("Zofia Łukasiewicz", "zofia@example.pl"),
        "to": [Address("Ośrodek", CENTRE)],
        "date": datetime(2026, 3, 1, 10, number, tzinfo=timezone(timedelta(hours=1))),
        "text": f"Treść {number}: zażółć gęślą jaźń",
        "headers": [("From", "Zofia <zofia@example.pl>"), ("Subject", f"Sprawa {number}")],
        "size": 1000 + number,
        "auth": {PROVIDER: {"spf": "pass"}, "forged.example": {"dkim": "pass"}},
        "folder": "INBOX",
        "uidvalidity": 7,
        "uid": number,
    }
    fields.update(values)
    return IncomingMail(**fields)  # type: ignore[arg-type]


@pytest.fixture
async def service(database_url: str, tmp_path: Path) -> Service:
    service = Service(make_settings(database_url, tmp_path))
    yield service  # type: ignore[misc]
    await service.close()


async def test_batches_thread_link_and_store_every_column(service: Service) -> None:
    async with service.store.transaction() as session:
        zofia = Resident(name="Zofia")
        session.add(zofia)
        await session.flush()
        # Only a proven address links mail (the chat's /email flow records this).
        await mail_store.proofs.prove(
            session,
            resident_id=zofia.id,
            address="Zofia@Example.pl",
            how=mail_store.proofs.CODE,
            at=datetime.now(UTC),
        )
    first = [
        mail(
            1,
            seen=True,
            attachments=[
                IncomingAttachment("a.pdf", "application/pdf", 3, None, "ab" * 32, None, "mail/a")
            ],
        ),
        mail(
            2,
            in_reply_to="m1@example.pl",
            references=["m1@example.pl"],
            cc=[Address("", "jan@example.pl")],
        ),
        mail(3, subject="Inna", sender=Address("", "anna@example.pl"), headers=[], auth={}),
        mail(1),  # the same Message-ID again: stored once
    ]
    async with service.store.transaction() as session:
        received = await receive_mail(session, service.services, first, POLICY)
    assert received.duplicates == 1
    assert received.stored == sorted(received.stored)

    async with service.store.transaction() as session:
        # A thread the ORM loaded before the batch shows the batch's changes after it.
        [thread_id] = await session.scalars(
            select(MailMessage.thread_id).where(MailMessage.message_id == "m1@example.pl")
        )
        loaded = await session.get(MailThread, thread_id)
        assert loaded is not None and loaded.message_count == 2
        later = [
            mail(4, subject="Re: Sprawa 1", references=["unknown@example.pl"]),
            mail(5, subject="Odp: Inna", sender=Address("", "anna@example.pl")),
        ]
        received = await receive_mail(session, service.services, later, POLICY)
        assert loaded.message_count == 3 and loaded.status == mail_store.OPEN

    async with service.store.transaction() as session:
        messages = list(await session.scalars(select(MailMessage).order_by(MailMessage.id)))
        threads = {t.id: t for t in await session.scalars(select(MailThread))}
        attachments = list(await session.scalars(select(MailAttachment)))
        resident = await session.scalar(select(Resident))
    assert [m.message_id for m in messages] == [f"m{n}@example.pl" for n in (1, 2, 3, 4, 5)]
    one, two, three, four, five = messages
    assert two.thread_id == one.thread_id == four.thread_id
    assert five.thread_id == three.thread_id != one.thread_id
    assert threads[one.thread_id].message_count == 3
    assert threads[three.thread_id].message_count == 2
    assert threads[one.thread_id].resident_id == resident.id  # type: ignore[union-attr]
    assert one.resident_id == resident.id and three.resident_id is None  # type: ignore[union-attr]
    assert one.to == [["Ośrodek", CENTRE]] and two.cc == [["", "jan@example.pl"]]
    assert one.headers == [["From", "Zofia <zofia@example.pl>"], ["Subject", "Sprawa 1"]]
    assert one.auth == {"spf": "pass"} and three.auth == {} and three.headers == []
    assert two.in_reply_to == "m1@example.pl" and two.reference_ids == ["m1@example.pl"]
    assert one.date == datetime(2026, 3, 1, 9, 1, tzinfo=UTC)
    assert one.seen is True and two.seen is False
    assert (one.folder, one.uidvalidity, one.uid, one.size) == ("INBOX", 7, 1, 1001)
    assert one.text == "Treść 1: zażółć gęślą jaźń" and one.html is None
    assert [(a.message_id, a.filename, a.path) for a in attachments] == [
        (one.id, "a.pdf", "mail/a")
    ]


async def test_a_batch_whose_transaction_fails_leaves_nothing(service: Service) -> None:
    attachment = IncomingAttachment("a.pdf", "application/pdf", 3, None, "ab" * 32, None, "mail/a")
    batch = [mail(1, attachments=[attachment]), mail(2, in_reply_to="m1@example.pl"), mail(3)]

    class Interrupted(Exception):
        pass

    with pytest.raises(Interrupted):
        async with service.store.transaction() as session:
            received = await receive_mail(session, service.services, batch, POLICY)
            assert len(received.stored) == 3
            raise Interrupted
    async with service.store.transaction() as session:
        left = [
            list(await session.scalars(select(table.id)))
            for table in (MailMessage, MailThread, MailAttachment)
        ]
        received = await receive_mail(session, service.services, batch, POLICY)
    assert left == [[], [], []]
    assert len(received.stored) == 3 and received.duplicates == 0
