"""The watcher against a real Dovecot: import, duplicates, threading, IDLE, polling,
acknowledgements, a refused login, a server restart, and a server left unchanged."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

import aioimaplib
import pytest
from sqlalchemy import select

from bot.app import Service
from bot.mail.imap_connection import ImapAccount as MailboxAccount
from bot.mail.imap_connection import ImapConnection
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


async def test_watcher_new_uidvalidity_resyncs_without_duplicates(
    mail_service: Service, imap: ImapAccount, dovecot_server: DovecotServer
) -> None:
    first, second, third = (corpus.utf8_thunderbird(n).raw for n in (1, 2, 3))
    await imap.append(first)
    await imap.append(second)
    watcher = watcher_for(mail_service)
    await watcher.sync()
    async with mail_service.store.transaction() as session:
        before = await mail_store.checkpoint(session, "INBOX")
        assert before is not None
        old_validity = before.uidvalidity

    # The folder is rebuilt on the server: new UIDVALIDITY, the same mail plus one.
    dovecot_server.reset_mailbox(imap.user)
    await imap.append(third)  # creates the folder again ...
    dovecot_server.reset_mailbox(imap.user)
    doveadm(dovecot_server, "mailbox", "create", "-u", imap.user, "INBOX")
    doveadm(
        dovecot_server,
        "mailbox",
        "update",
        "-u",
        imap.user,
        "--uid-validity",
        str(old_validity + 7),
        "INBOX",
    )
    for raw in (first, second, third):
        await imap.append(raw)
    report = await watcher.sync()

    assert report.resynced
    assert (report.total, report.stored, report.duplicates) == (3, 1, 2)
    assert await stored_count(mail_service) == 3
    async with mail_service.store.transaction() as session:
        after = await mail_store.checkpoint(session, "INBOX")
    assert after is not None and after.uidvalidity != old_validity and after.last_uid == 3


def doveadm(server: DovecotServer, *args: str) -> None:
    import subprocess

    assert server._doveadm is not None
    subprocess.run(
        [server._doveadm, "-c", str(server.conf_path), *args],
        check=True,
        capture_output=True,
        timeout=30,
    )


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


async def stored_checkpoint(service: Service) -> bool:
    async with service.store.transaction() as session:
        return await mail_store.checkpoint(session, "INBOX") is not None


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


async def test_watcher_login_refused_keeps_retrying_until_it_works(
    mail_service: Service, imap: ImapAccount, caplog: pytest.LogCaptureFixture
) -> None:
    await imap.append(corpus.utf8_thunderbird().raw)
    settings = mail_service.settings
    right = settings.imap_password
    settings.imap_password = type(right)("wrong-password")  # type: ignore[misc]
    watcher = watcher_for(mail_service)
    watcher.reconnect_max = 0.2
    task = asyncio.create_task(watcher.run())
    try:
        with caplog.at_level(logging.ERROR, logger="bot.mail.imap"):
            await wait_until(lambda: caplog.text.count("refused") >= 2)
        assert not task.done()
        settings.imap_password = right
        await wait_until(lambda: stored_count(mail_service))
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_watcher_dovecot_restarted_while_idling_new_mail_still_arrives(
    mail_service: Service, imap: ImapAccount, dovecot_server: DovecotServer
) -> None:
    watcher = watcher_for(mail_service)
    async with running(watcher) as task:
        await wait_until(lambda: stored_checkpoint(mail_service))
        await imap.append(corpus.utf8_thunderbird(1).raw)
        await wait_until(lambda: stored_count(mail_service))
        await asyncio.to_thread(restart, dovecot_server)
        await wait_until(lambda: not watcher.connected.is_set())
        await imap.append(corpus.utf8_thunderbird(2).raw)
        await wait_until(lambda: watcher.connected.is_set())
        await wait_until(lambda: _count_is(mail_service, 2))
        assert not task.done()
    rows = await outbox_rows(mail_service, "telegram")
    assert len(rows) == 2


async def _count_is(service: Service, expected: int) -> bool:
    return await stored_count(service) == expected


def restart(server: DovecotServer) -> None:
    """Stop and start the session's Dovecot on the same port, with the same mailboxes.

    Like `systemctl restart dovecot` (KillMode=control-group): the master and every
    imap process get SIGTERM. (The master alone would let open sessions linger.)
    """
    import signal
    import subprocess

    process = server._proc
    assert process is not None and server._binary is not None
    os.killpg(process.pid, signal.SIGTERM)  # started with a session of its own
    process.wait(timeout=15)
    assert server._stderr is not None
    server._proc = subprocess.Popen(
        [server._binary, "-F", "-c", str(server.conf_path)],
        stdin=subprocess.DEVNULL,
        stdout=server._stderr,
        stderr=server._stderr,
        start_new_session=True,
    )
    server._wait_for_greeting()


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


async def test_sizes_over_gives_only_the_large_messages_with_their_size(
    imap: ImapAccount,
) -> None:
    small = corpus.utf8_thunderbird().raw
    large = corpus.enormous_line().raw
    for raw in (small, large, small, large):
        await imap.append(raw)
    account = MailboxAccount(imap.host, imap.port, imap.user, imap.password, "none", "INBOX")
    connection = ImapConnection(account, timeout=10)
    await connection.open()
    try:
        uids = await connection.uids_after(0)
        over = await connection.sizes_over(uids, len(small) + 1)
        only_last = await connection.sizes_over(uids[3:], len(small) + 1)
    finally:
        await connection.close()

    assert over == {uids[1]: len(large), uids[3]: len(large)}
    assert only_last == {uids[3]: len(large)}


async def test_batches_keep_under_the_byte_limit_counting_small_messages_as_their_share(
    mail_service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.mail import imap as imap_module

    monkeypatch.setattr(imap_module, "BATCH_BYTES", 1000)
    asked: list[tuple[list[int], int]] = []

    async def sizes_over(uids, threshold):  # type: ignore[no-untyped-def]
        asked.append((list(uids), threshold))
        return {uid: 700 for uid in uids if uid in (3, 6)}

    watcher = watcher_for(mail_service, batch_messages=4)
    batches = [b async for b in watcher._batches(sizes_over, list(range(1, 9)))]

    # A share is 1000 / 4 = 250 bytes: 3 and 6 (700 bytes) fit with one small one.
    assert asked == [(list(range(1, 9)), 250)]
    assert batches == [([1, 2], 500), ([3, 4], 950), ([5, 6], 950), ([7, 8], 500)]


async def test_connection_fetch_gives_every_message_as_stored_with_its_size(
    imap: ImapAccount,
) -> None:
    raws = [case.raw for case in corpus.corpus()]
    for raw in raws:
        await imap.append(raw)
    account = MailboxAccount(imap.host, imap.port, imap.user, imap.password, "none", "INBOX")
    connection = ImapConnection(account, timeout=10)
    await connection.open()
    try:
        uids = await connection.uids_after(0)
        fetched = await connection.fetch(uids)
        sizes = await connection.sizes(uids)
    finally:
        await connection.close()

    assert [f.uid for f in fetched] == uids
    # Dovecot hands NUL out as 0x80; everything else comes back as it was stored.
    assert [f.raw for f in fetched] == [raw.replace(b"\0", b"\x80") for raw in raws]
    assert sizes == {f.uid: len(f.raw) for f in fetched}
