"""The IMAP connection helpers against a real Dovecot: sizes over a threshold, batches
kept under the byte limit, and fetching every message as stored."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from bot.app import Service
from bot.mail.imap_connection import ImapAccount as MailboxAccount
from bot.mail.imap_connection import ImapConnection
from tests.mail import corpus
from tests.mail.conftest import watcher_for
from tests.servers.dovecot import ImapAccount

# Slow (imports from the Dovecot server): left out of `pytest -m "not slow"`.
pytestmark = pytest.mark.slow


@asynccontextmanager
async def connected(imap: ImapAccount) -> AsyncIterator[ImapConnection]:
    """The product's IMAP connection to the test account's INBOX, open."""
    account = MailboxAccount(imap.host, imap.port, imap.user, imap.password, "none", "INBOX")
    connection = ImapConnection(account, timeout=10)
    await connection.open()
    try:
        yield connection
    finally:
        await connection.close()


async def test_sizes_over_gives_only_the_large_messages_with_their_size(
    imap: ImapAccount,
) -> None:
    small = corpus.utf8_thunderbird().raw
    large = corpus.enormous_line().raw
    for raw in (small, large, small, large):
        await imap.append(raw)
    async with connected(imap) as connection:
        uids = await connection.uids_after(0)
        over = await connection.sizes_over(uids, len(small) + 1)
        only_last = await connection.sizes_over(uids[3:], len(small) + 1)

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
    async with connected(imap) as connection:
        uids = await connection.uids_after(0)
        fetched = await connection.fetch(uids)
        sizes = await connection.sizes(uids)

    assert [f.uid for f in fetched] == uids
    # Dovecot hands NUL out as 0x80; everything else comes back as it was stored.
    assert [f.raw for f in fetched] == [raw.replace(b"\0", b"\x80") for raw in raws]
    assert sizes == {f.uid: len(f.raw) for f in fetched}
