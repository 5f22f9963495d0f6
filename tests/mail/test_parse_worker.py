"""Parser processes: the same records as parsing in place; a dead one loses nothing."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import sys

from bot.mail.parse_worker import ParserPool, parse_many
from tests.mail import corpus

CAP = 1_000_000


def _raws() -> list[bytes]:
    return [case.raw for case in corpus.corpus()] + corpus.conversation()


def _records(mails: list) -> list[dict]:
    return [dataclasses.asdict(mail) for mail in mails]


async def test_parser_processes_answer_each_batch_with_the_records_parsed_in_place() -> None:
    raws = _raws()
    batches = [raws[start : start + 5] for start in range(0, len(raws), 5)]
    pool = await ParserPool.start(2, CAP)
    try:
        assert len(pool.processes) == 2
        answers = [await pool.submit(batch) for batch in batches]
        assert all(answer is not None for answer in answers)
        parsed = [
            await pool.parsed(answer, batch) for answer, batch in zip(answers, batches, strict=True)
        ]
    finally:
        await pool.close()

    assert [_records(p) for p in parsed] == [_records(parse_many(b, CAP)) for b in batches]
    # Each child left when the pool closed.
    assert all(p.process.returncode is not None for p in pool.processes)


async def test_parser_process_killed_its_batches_parsed_here_and_the_next_ones_too() -> None:
    raws = _raws()
    pool = await ParserPool.start(1, CAP)
    try:
        child = pool.processes[0].process
        os.kill(child.pid, signal.SIGSTOP)  # it cannot answer before it is killed
        answer = await pool.submit(raws[:3])
        os.kill(child.pid, signal.SIGKILL)
        await child.wait()

        first = await pool.parsed(answer, raws[:3])
        # The pool noticed: the next batch goes nowhere and is parsed here as well.
        later = await pool.submit(raws[3:6])
        second = await pool.parsed(later, raws[3:6])
    finally:
        await pool.close()

    assert later is None and pool.processes == []
    assert _records(first) == _records(parse_many(raws[:3], CAP))
    assert _records(second) == _records(parse_many(raws[3:6], CAP))


async def test_parser_process_leaves_when_the_bot_is_killed(tmp_path) -> None:
    # A stand-in bot starts a parser process, says its pid, and is SIGKILLed.
    script = (
        "import asyncio\n"
        "from bot.mail.parse_worker import ParserProcess\n"
        "async def main():\n"
        "    child = await ParserProcess.start()\n"
        "    print(child.process.pid, flush=True)\n"
        "    await asyncio.sleep(60)\n"
        "asyncio.run(main())\n"
    )
    bot = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, stdout=asyncio.subprocess.PIPE
    )
    assert bot.stdout is not None
    child_pid = int(await asyncio.wait_for(bot.stdout.readline(), 30))
    bot.kill()
    await bot.wait()

    for _ in range(100):
        if not _alive(child_pid):
            break
        await asyncio.sleep(0.1)
    assert not _alive(child_pid)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


async def test_parser_pool_without_processes_parses_in_place() -> None:
    raws = _raws()[:4]
    pool = await ParserPool.start(0, CAP)
    answer = await pool.submit(raws)

    assert answer is None
    assert _records(await pool.parsed(answer, raws)) == _records(parse_many(raws, CAP))
    await pool.close()
