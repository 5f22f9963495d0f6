"""Fetching processes: the same records as fetching and parsing in place; a dead or
refused one loses nothing."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import pickle
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from bot.mail.fetch_worker import FetcherGone, FetchPool, FetchProcess, Hello, read_fetched
from bot.mail.imap_connection import ImapAccount as MailboxAccount
from bot.mail.imap_connection import ImapConnection
from handlers.mailbox.events import IncomingMail
from tests.mail import corpus
from tests.servers.dovecot import ImapAccount

# Slow (fetching processes started and killed): left out of `pytest -m "not slow"`.
pytestmark = pytest.mark.slow

CAP = 1_000_000


def _records(mails: Sequence[IncomingMail]) -> list[dict]:
    return [dataclasses.asdict(mail) for mail in mails]


async def _mailbox(imap: ImapAccount, tmp_path: Path) -> tuple[ImapConnection, Hello, list[int]]:
    raws = [case.raw for case in corpus.corpus()] + corpus.conversation()
    for raw in raws:
        await imap.append(raw)
    account = MailboxAccount(imap.host, imap.port, imap.user, imap.password, "none", "INBOX")
    connection = ImapConnection(account, timeout=30)
    await connection.open()
    hello = Hello(account, connection.uidvalidity, tmp_path / "data", CAP, 30.0)
    uids = await connection.uids_after(0)
    assert len(uids) == len(raws)
    return connection, hello, uids


def _fetching_here(connection: ImapConnection, hello: Hello, calls: list[list[int]]):
    async def fetch_here(uids: Sequence[int]) -> list[IncomingMail]:
        calls.append(list(uids))
        return read_fetched(await connection.fetch(uids), hello)

    return fetch_here


async def test_fetching_processes_answer_each_batch_as_fetching_here_would(
    imap: ImapAccount, tmp_path: Path
) -> None:
    connection, hello, uids = await _mailbox(imap, tmp_path)
    batches = [uids[start : start + 5] for start in range(0, len(uids), 5)]
    here: list[list[int]] = []
    fetch_here = _fetching_here(connection, hello, here)
    pool = await FetchPool.start(3, hello)
    try:
        assert len(pool.processes) == 3
        # One was started; it forked the others.
        first, *forked = pool.processes
        assert first.process is not None and all(p.process is None for p in forked)
        assert all(_parent(p.pid) == first.pid for p in forked)
        # They give way to the bot, which answers residents meanwhile.
        mine = os.getpriority(os.PRIO_PROCESS, 0)
        assert all(os.getpriority(os.PRIO_PROCESS, p.pid) > mine for p in pool.processes)
        answers = [await pool.submit(batch) for batch in batches]
        pairs = zip(answers, batches, strict=True)
        got = [await pool.mails(answer, batch, fetch_here) for answer, batch in pairs]
        expected = [read_fetched(await connection.fetch(batch), hello) for batch in batches]
    finally:
        await pool.close()
        await connection.close()

    assert here == []  # the children fetched everything
    assert [_records(g) for g in got] == [_records(e) for e in expected]
    assert [m.uid for g in got for m in g] == uids
    # Attachments are on disk, named by their hash, and not carried in the records.
    files = [a for g in got for m in g for a in m.attachments if a.path]
    assert files and all(a.content is None for a in files)
    assert all((hello.data_dir / a.path).stat().st_size == a.size for a in files)
    # Each child left when the pool closed.
    assert all(p.exited for p in pool.processes)
    assert not any(_alive(p.pid) for p in pool.processes if p.pid is not None)


async def test_finished_fetching_processes_answer_what_they_were_sent_then_leave(
    imap: ImapAccount, tmp_path: Path
) -> None:
    """`finish` after the last batch: the children answer every batch sent and leave
    by themselves, while the bot would still be storing (no `close` needed for that)."""
    connection, hello, uids = await _mailbox(imap, tmp_path)
    batches = [uids[start : start + 4] for start in range(0, len(uids), 4)]
    here: list[list[int]] = []
    fetch_here = _fetching_here(connection, hello, here)
    pool = await FetchPool.start(2, hello)
    try:
        answers = [await pool.submit(batch) for batch in batches]
        pool.finish()
        for process in pool.processes:
            assert await process._left(30), "a finished child stayed"
        pairs = zip(answers, batches, strict=True)
        got = [m for answer, batch in pairs for m in await pool.mails(answer, batch, fetch_here)]
        pids = [p.pid for p in pool.processes if p.pid is not None]
        gone = await _gone(pids)
    finally:
        await pool.close()
        await connection.close()

    assert here == []  # every batch was answered before they left
    assert [m.uid for m in got] == uids
    assert all(m.message_id for m in got)
    assert len(pids) == 2 and gone


async def _gone(pids: Sequence[int], seconds: float = 10.0) -> bool:
    """Whether the processes have all ended (or are only left for their parent to
    reap) within `seconds`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while any(_alive(pid) for pid in pids):
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


@pytest.mark.parametrize("killed", ["started", "forked"])
async def test_fetching_process_killed_its_batches_and_the_next_fetched_here(
    imap: ImapAccount, tmp_path: Path, killed: str
) -> None:
    connection, hello, uids = await _mailbox(imap, tmp_path)
    here: list[list[int]] = []
    fetch_here = _fetching_here(connection, hello, here)
    pool = await FetchPool.start(1 if killed == "started" else 2, hello)
    try:
        child = pool.processes[-1]
        others = pool.processes[:-1]
        assert child.pid is not None
        os.kill(child.pid, signal.SIGSTOP)  # it cannot answer before it is killed
        pool._turn = len(others)  # its turn
        answer = await pool.submit(uids[:3])
        os.kill(child.pid, signal.SIGKILL)
        await child._left(30)

        first = await pool.mails(answer, uids[:3], fetch_here)
        pool._turn = len(others)
        later = await pool.submit(uids[3:6])
        second = await pool.mails(later, uids[3:6], fetch_here)
    finally:
        await pool.close()
        await connection.close()

    # The dead one's batch was fetched here; the next went to another, or here when
    # none was left.
    assert pool.processes == others
    assert here == ([uids[:3]] if others else [uids[:3], uids[3:6]])
    assert [m.uid for m in first + second] == uids[:6]
    assert all(m.message_id for m in first + second)


async def test_fetching_processes_without_fork_are_each_started(
    imap: ImapAccount, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection, hello, uids = await _mailbox(imap, tmp_path)
    here: list[list[int]] = []
    fetch_here = _fetching_here(connection, hello, here)
    monkeypatch.delattr(os, "fork")  # as on a system that cannot fork
    pool = await FetchPool.start(2, hello)
    try:
        assert [p.process is not None for p in pool.processes] == [True, True]
        batches = [uids[:4], uids[4:8]]
        answers = [await pool.submit(batch) for batch in batches]
        pairs = zip(answers, batches, strict=True)
        got = [await pool.mails(answer, batch, fetch_here) for answer, batch in pairs]
    finally:
        await pool.close()
        await connection.close()

    assert here == []
    assert [m.uid for g in got for m in g] == uids[:8]


async def test_fetching_process_refuses_a_renumbered_folder(
    imap: ImapAccount, tmp_path: Path
) -> None:
    connection, hello, _uids = await _mailbox(imap, tmp_path)
    await connection.close()
    stale = dataclasses.replace(hello, uidvalidity=hello.uidvalidity + 1)

    with pytest.raises(FetcherGone, match="UIDVALIDITY"):
        await FetchProcess.start(stale)


async def test_fetching_process_leaves_when_the_bot_is_killed(
    imap: ImapAccount, tmp_path: Path
) -> None:
    connection, hello, _uids = await _mailbox(imap, tmp_path)
    await connection.close()
    # A stand-in bot starts a fetching process, says its pid, and is SIGKILLed.
    script = (
        "import asyncio, pickle, sys\n"
        "from bot.mail.fetch_worker import FetchProcess\n"
        "async def main():\n"
        "    child = await FetchProcess.start(pickle.loads(bytes.fromhex(sys.argv[1])))\n"
        "    print(child.process.pid, flush=True)\n"
        "    await asyncio.sleep(60)\n"
        "asyncio.run(main())\n"
    )
    bot = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, pickle.dumps(hello).hex(), stdout=asyncio.subprocess.PIPE
    )
    assert bot.stdout is not None
    child_pid = int(await asyncio.wait_for(bot.stdout.readline(), 60))
    bot.kill()
    await bot.wait()

    for _ in range(100):
        if not _alive(child_pid):
            break
        await asyncio.sleep(0.1)
    assert not _alive(child_pid)


def _parent(pid: int | None) -> int:
    with open(f"/proc/{pid}/stat") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[1])


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


async def test_fetch_pool_without_processes_fetches_here(imap: ImapAccount, tmp_path: Path) -> None:
    connection, hello, uids = await _mailbox(imap, tmp_path)
    here: list[list[int]] = []
    fetch_here = _fetching_here(connection, hello, here)
    pool = await FetchPool.start(0, hello)
    try:
        answer = await pool.submit(uids[:4])
        mails = await pool.mails(answer, uids[:4], fetch_here)
    finally:
        await pool.close()
        await connection.close()

    assert answer is None and here == [uids[:4]]
    assert [m.uid for m in mails] == uids[:4]
