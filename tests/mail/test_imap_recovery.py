"""The watcher against a real Dovecot that changes under it: a folder rebuilt with a new
UIDVALIDITY, a refused login, and a server restarted while the watcher idles."""

from __future__ import annotations

import asyncio
import logging
import os

import pytest

from bot.app import Service
from storage import mail as mail_store
from tests.mail import corpus
from tests.mail.conftest import (
    outbox_rows,
    running,
    stored_checkpoint,
    stored_count,
    wait_until,
    watcher_for,
)
from tests.servers.dovecot import DovecotServer, ImapAccount

# Slow (imports from the Dovecot server): left out of `pytest -m "not slow"`.
pytestmark = pytest.mark.slow


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
