"""The watcher against a real Dovecot: import, duplicates, threading, IDLE, polling,
acknowledgements, a message that cannot be stored, and a server left unchanged.

Recovery (a new UIDVALIDITY, a refused login, a server restart) is in test_imap_recovery.py,
the IMAP connection helpers in test_imap_connection.py."""

from __future__ import annotations

from pathlib import Path

import aioimaplib
import pytest
from sqlalchemy import select

from bot.app import Service
from handlers.core.replies import from_payload
from storage import mail as mail_store
from storage.mail import MailAcknowledgement, MailThread
from tests.conftest import COORDINATOR_ID
from tests.mail import corpus
from tests.mail.conftest import (
    fill_maildir,
    mail_settings,
    outbox_rows,
    running,
    stored,
    stored_checkpoint,
    stored_count,
    wait_until,
    watcher_for,
)
from tests.servers.dovecot import DovecotServer, ImapAccount

# Slow (imports from the Dovecot server): left out of `pytest -m "not slow"`.
pytestmark = pytest.mark.slow


async def _threads(service: Service) -> list[MailThread]:
    async with service.store.transaction() as session:
        return list(await session.scalars(select(MailThread).order_by(MailThread.id)))


async def test_watcher_sync_corpus_each_stored_once_with_right_text(
    database_url: str, tmp_path: Path, imap: ImapAccount
) -> None:
    mail_service = Service(mail_settings(database_url, tmp_path, imap, None))
    try:
        await _import_corpus(mail_service, imap)
    finally:
        await mail_service.close()


async def _import_corpus(mail_service: Service, imap: ImapAccount) -> None:
    cases = corpus.corpus()
    for case in cases:
        await imap.append(case.raw)
    watcher = watcher_for(mail_service)

    report = await watcher.sync()
    again = await watcher.sync()

    assert (report.total, report.stored) == (len(cases), len(cases))
    assert again.total == 0
    rows = await stored(mail_service)
    assert len(rows) == len(cases)
    for case, row in zip(cases, rows, strict=True):
        assert row.subject == case.subject, case.name
        for fragment in case.text:
            assert fragment in row.text, case.name
        assert (row.parse_error is not None) == case.problem, case.name
        assert row.uid is not None and row.folder == "INBOX"
    attachments = await _attachment_files(mail_service)
    assert attachments["Wniosek – Koło Gospodyń Wiejskich.pdf"].startswith(b"%PDF-1.4")
    assert attachments["festyn.png"]
    # Threads of the corpus go on over a second batch (existing threads are updated).
    await imap.append(corpus.conversation()[0])
    await imap.append(corpus.conversation()[1])
    await watcher.sync()
    await imap.append(corpus.conversation()[2])
    await watcher.sync()
    threads = await _threads(mail_service)
    assert threads[-1].message_count == 3


def _long_catch_up(
    server: DovecotServer, imap: ImapAccount, people: int
) -> tuple[list[str], list[bytes]]:
    """A three-message conversation from each of `people` senders, in the folder."""
    senders = [f"osoba{n}@example.pl" for n in range(people)]
    raws = [raw for sender in senders for raw in corpus.conversation(sender)]
    fill_maildir(server, imap.user, raws)
    return senders, raws


async def test_watcher_long_catch_up_every_message_once_threads_whole(
    database_url: str, tmp_path: Path, imap: ImapAccount, dovecot_server: DovecotServer
) -> None:
    # Small batches: conversations cross batches, and one batch's threads go on in the next.
    senders, raws = _long_catch_up(dovecot_server, imap, 80)
    mail_service = Service(mail_settings(database_url, tmp_path, imap, None))
    try:
        watcher = watcher_for(mail_service, batch_messages=7)
        report = await watcher.sync()
        again = await watcher.sync()

        assert (report.total, report.stored, report.duplicates) == (len(raws), len(raws), 0)
        assert again.total == 0
        rows = await stored(mail_service)
        assert sorted(r.message_id for r in rows) == sorted(
            f"thread-{i}.{s.split('@')[0]}@example.pl" for s in senders for i in (1, 2, 3)
        )
        threads = await _threads(mail_service)
        assert [t.message_count for t in threads] == [3] * len(senders)
        assert {t.counterpart for t in threads} == set(senders)
        async with mail_service.store.transaction() as session:
            saved = await mail_store.checkpoint(session, "INBOX")
        assert saved is not None and saved.last_uid == max(r.uid or 0 for r in rows)
    finally:
        await mail_service.close()


async def _attachment_files(service: Service) -> dict[str, bytes]:
    async with service.store.transaction() as session:
        rows = list(await session.scalars(select(mail_store.MailAttachment)))
    return {a.filename: (service.settings.data_dir / a.path).read_bytes() for a in rows if a.path}


async def test_watcher_same_message_delivered_twice_stored_once(
    mail_service: Service, imap: ImapAccount
) -> None:
    raw = corpus.utf8_thunderbird().raw
    await imap.append(raw)
    await imap.append(raw)

    report = await watcher_for(mail_service).sync()

    assert (report.total, report.stored, report.duplicates) == (2, 1, 1)
    assert await stored_count(mail_service) == 1


async def test_watcher_conversation_threaded_by_headers_then_subject(
    mail_service: Service, imap: ImapAccount
) -> None:
    for raw in corpus.conversation():
        await imap.append(raw)
    await imap.append(corpus.conversation("inna.osoba@example.pl")[2])

    await watcher_for(mail_service).sync()

    threads = await _threads(mail_service)
    assert [(t.subject, t.counterpart, t.message_count) for t in threads] == [
        ("Wynajem sali na spotkanie", "maria@example.pl", 3),
        # Same subject from someone else is another conversation.
        ("Odp: RE: Wynajem sali  na spotkanie", "inna.osoba@example.pl", 1),
    ]


async def test_watcher_first_import_notifies_nobody_and_read_mail_is_handled(
    mail_service: Service, imap: ImapAccount
) -> None:
    await imap.append(corpus.utf8_thunderbird(1).raw, flags="\\Seen")
    await imap.append(corpus.utf8_thunderbird(2).raw)

    await watcher_for(mail_service).sync()

    assert await outbox_rows(mail_service) == []
    assert [t.status for t in await _threads(mail_service)] == ["handled", "open"]


async def test_watcher_idle_new_mail_notifies_each_coordinator_once(
    mail_service: Service, imap: ImapAccount
) -> None:
    watcher = watcher_for(mail_service)
    async with running(watcher):
        await wait_until(lambda: stored_checkpoint(mail_service))
        await imap.append(corpus.outlook_alternative_with_attachments().raw)
        await wait_until(lambda: outbox_rows(mail_service, "telegram"))

    [row] = await outbox_rows(mail_service, "telegram")
    [message] = await stored(mail_service)
    assert row.recipient == str(COORDINATOR_ID)
    assert row.idempotency_key == f"mail:new:{message.id}:{COORDINATOR_ID}"
    card = from_payload(row.payload)
    assert "Koło Gospodyń Wiejskich <kgw@example.pl>" in card.text
    assert "Wniosek KGW – dożynki" in card.text
    assert "w załączniku wniosek." in card.text
    assert "Wniosek – Koło Gospodyń Wiejskich.pdf, Budżet inicjatywy.docx" in card.text
    assert [b.label for b in card.buttons[0]] == ["↩️ Odpowiedz", "✔️ Załatwione"]


async def test_watcher_server_without_idle_polls_for_new_mail(
    mail_service: Service, imap: ImapAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = aioimaplib.IMAP4.has_capability
    monkeypatch.setattr(
        aioimaplib.IMAP4, "has_capability", lambda self, name: name != "IDLE" and real(self, name)
    )
    watcher = watcher_for(mail_service)
    async with running(watcher):
        await wait_until(lambda: stored_checkpoint(mail_service))
        await imap.append(corpus.utf8_thunderbird().raw)
        await wait_until(lambda: outbox_rows(mail_service, "telegram"))
    assert await stored_count(mail_service) == 1


async def test_watcher_acknowledgement_only_for_people_once_a_day(
    sqlite_url: str, tmp_path: Path, imap: ImapAccount
) -> None:
    service = Service(mail_settings(sqlite_url, tmp_path, imap, None, mail_acknowledge=True))
    watcher = watcher_for(service)
    try:
        await watcher.sync()  # an empty mailbox: from now on, mail is new
        await imap.append(corpus.utf8_thunderbird(1).raw)
        await imap.append(corpus.utf8_thunderbird(2).raw)  # same sender, same day
        for case in corpus.auto_replies():
            await imap.append(case.raw)
        own = corpus.utf8_thunderbird(3).raw.replace(b"zofia@example.pl", b"bot@lokalnie.test")
        await imap.append(own)
        await watcher.catch_up_once()

        acknowledgements = await outbox_rows(service, "email")
        async with service.store.transaction() as session:
            log = list(await session.scalars(select(MailAcknowledgement)))
        threads = await _threads(service)
    finally:
        await service.close()

    [ack] = acknowledgements
    assert ack.recipient == "zofia@example.pl"
    assert ack.payload["auto_submitted"] == "auto-replied"
    assert ack.payload["in_reply_to"] == "utf8-1@example.pl"
    assert "Pytanie o warsztaty ceramiki nr 1" in ack.payload["text"]
    assert [(entry.address, entry.message_id is not None) for entry in log] == [
        ("zofia@example.pl", True)
    ]
    # The acknowledgement is stored in its thread.
    assert threads[0].message_count == 2


async def test_watcher_reads_only_flags_and_messages_unchanged(
    mail_service: Service, imap: ImapAccount
) -> None:
    for number in (1, 2):
        await imap.append(corpus.utf8_thunderbird(number).raw)

    await watcher_for(mail_service).sync()

    async with imap.session() as client:
        await client.select("INBOX")
        response = await client.uid("fetch", "1:*", "(FLAGS)")
    flags = [bytes(line) for line in response.lines if b"FETCH" in bytes(line)]
    assert len(flags) == 2
    assert all(b"\\Seen" not in line for line in flags)


async def test_watcher_message_that_cannot_be_stored_is_kept_raw_and_others_go_on(
    mail_service: Service, imap: ImapAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.mail import imap as imap_module

    real = imap_module.receive_mail

    async def fragile(session, services, mails, policy):  # type: ignore[no-untyped-def]
        if any(m.message_id == "utf8-2@example.pl" and not m.parse_error for m in mails):
            raise ValueError("the store refused this one")
        return await real(session, services, mails, policy)

    monkeypatch.setattr(imap_module, "receive_mail", fragile)
    for number in (1, 2, 3):
        await imap.append(corpus.utf8_thunderbird(number).raw)

    report = await watcher_for(mail_service).sync()

    assert report.stored == 3
    rows = {row.message_id: row for row in await stored(mail_service)}
    assert rows["utf8-1@example.pl"].parse_error is None
    bad = rows["utf8-2@example.pl"]
    assert bad.parse_error == "not storable: ValueError: the store refused this one"
    assert bad.raw is not None and b"ceramiki nr 2" in bad.raw
    assert "ceramiki nr 2" in bad.subject
    async with mail_service.store.transaction() as session:
        saved = await mail_store.checkpoint(session, "INBOX")
    assert saved is not None and saved.last_uid == 3
