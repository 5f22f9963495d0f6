"""Results mailed to a subscriber: the album's pictures and the report ride along as
attachments of the one e-mail each part becomes."""

from __future__ import annotations

from sqlalchemy import select

from bot.mail.compose import build_message
from handlers.core.events import OutgoingFile
from handlers.core.replies import file_payload
from scheduler.runtime import send
from storage.audiences import Recipient
from storage.models import OutboxMessage
from tests.harness import ChatHarness

PICTURES = [OutgoingFile(f"wykres-{n}.png", "image/png", b"\x89PNG" + bytes([n])) for n in (1, 2)]
REPORT = OutgoingFile("ankieta-raport.html", "text/html", b"<p>Wyniki</p>")


async def test_album_and_file_become_attachments_of_the_e_mail(harness: ChatHarness) -> None:
    person = Recipient(None, "email", "mieszkanka@example.pl", "pl")
    async with harness.service.store.transaction() as session:
        await send(
            session,
            harness.service.services,
            person,
            "Wykresy (2)",
            "share:1",
            album=[file_payload(f) for f in PICTURES],
            file=file_payload(REPORT),
        )
    async with harness.service.store.transaction() as session:
        [row] = list(await session.scalars(select(OutboxMessage)))
    assert row.channel == "email" and row.recipient == "mieszkanka@example.pl"
    message = build_message(row.recipient, row.payload, mail_from="osrodek@example.pl")
    attached = [(part.get_filename(), part.get_content()) for part in message.iter_attachments()]
    assert attached == [
        ("wykres-1.png", PICTURES[0].content),
        ("wykres-2.png", PICTURES[1].content),
        ("ankieta-raport.html", "<p>Wyniki</p>"),
    ]
    assert "Wykresy (2)" in message.get_body(("plain",)).get_content()
