"""A mailbox import in the bot's own process while a resident chats.

    python -m benchmarks.mail_import [--messages 50000] [--store sqlite|postgresql|both]
                                     [--chat-interval 1.0] [--json FILE]

A private Dovecot (the test bed's, `tests.servers.dovecot`) gets N messages written
straight into its Maildir: the test corpus (`tests.mail.corpus`: UTF-8, ISO-8859-2 and
Windows-1250, encoded words, QP and base64, HTML-only, Outlook-style attachments, RFC
2231 names, an inline picture, a forwarded message, broken MIME, a 100,000-character
line, auto-replies ...) in turn, each with a Message-ID of its own, and one three-message
conversation in every twenty messages. Dovecot indexes the folder before anything is
timed.

Then, in one process and one event loop, as `lokalnie run` has them:

* the import: `MailboxWatcher.catch_up_once()`, what the running watcher does on a
  folder it has not seen (fetch by UID, parse, write attachments, thread, store one
  batch per transaction with the checkpoint), into a fresh migrated store;
* a resident chatting at a human pace: one line every `--chat-interval` seconds through
  the terminal channel's parsing and `process_inbound` (`tests.harness`), each timed
  from the line sent to its replies delivered by the outbox sender.

Printed: messages/s and total time of the import, and the resident's reply latency
(p50, p99, max). The goals: 50,000 messages in under 3 minutes, p99 under 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from tests.mail import corpus
from tests.mail.conftest import fill_maildir
from tests.servers.dovecot import DEFAULT_USER, DovecotServer, imap_session

ROOT = Path(__file__).resolve().parent.parent
RESIDENT = 4242
# What the resident types, in turn (each line gets at least one reply).
LINES = ["/help", "/mydata", "/language", "/help", "/survey", "/cancel"]


def messages(count: int) -> list[bytes]:
    """`count` messages: the corpus in turn, and a conversation every twenty."""
    templates = [case.raw for case in corpus.corpus()]
    raws: list[bytes] = []
    number = 0
    while len(raws) < count:
        if number % 20 == 19:
            raws.extend(corpus.conversation(f"osoba{number}@example.pl"))
        else:
            template = templates[number % len(templates)]
            raws.append(f"Message-ID: <bench-{number}@lokalnie.bench>\r\n".encode() + template)
        number += 1
    return raws[:count]


@dataclass
class Result:
    store: str
    messages: int
    seconds: float
    per_second: float
    chat_lines: int
    chat_p50: float
    chat_p99: float
    chat_max: float
    unanswered: int
    latencies: list[float] = field(repr=False)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def chat(person: Any, interval: float, stop: asyncio.Event) -> tuple[list[float], int]:
    """Lines at a steady pace until `stop`; each one's time to its replies."""
    latencies: list[float] = []
    unanswered = 0
    loop = asyncio.get_running_loop()
    start = loop.time()
    number = 0
    while not stop.is_set():
        sent = time.perf_counter()
        replies = await person.send(LINES[number % len(LINES)])
        latencies.append(time.perf_counter() - sent)
        unanswered += not replies
        number += 1
        # The next line when a person would type it (not sooner if this one was slow).
        delay = start + number * interval - loop.time()
        if delay > 0:
            try:
                await asyncio.wait_for(stop.wait(), delay)
            except TimeoutError:
                pass
    return latencies, unanswered


async def run_once(
    server: DovecotServer, store: str, url: str, data_dir: Path, interval: float
) -> Result:
    from bot.app import Service
    from bot.config import load_settings
    from bot.mail.imap import MailboxWatcher
    from handlers.mailbox.content import load_mail_content
    from storage.migrate import upgrade_async
    from tests.harness import ChatHarness

    account = server.account()
    settings = load_settings(
        _env_file=None,
        database_url=url,
        content_dir=ROOT / "content",
        data_dir=data_dir,
        telegram_bot_token=None,
        imap_host=account.host,
        imap_port=account.port,
        imap_user=account.user,
        imap_password=account.password,
        imap_security="none",
    )
    await upgrade_async(settings.database_url)
    service = Service(settings)
    try:
        harness = ChatHarness(service)
        person = harness.person(RESIDENT, name="Benchmark")
        await person.send("/start")  # a known resident before the clock starts
        watcher = MailboxWatcher(
            settings,
            service.store,
            service.services,
            content=load_mail_content(settings.content_dir),
            timeout=120,
        )
        stop = asyncio.Event()
        chatting = asyncio.create_task(chat(person, interval, stop))
        started = time.perf_counter()
        report = await watcher.catch_up_once()
        seconds = time.perf_counter() - started
        stop.set()
        latencies, unanswered = await chatting
    finally:
        await service.close()
    return Result(
        store=store,
        messages=report.stored,
        seconds=seconds,
        per_second=report.stored / seconds,
        chat_lines=len(latencies),
        chat_p50=statistics.median(latencies) if latencies else float("nan"),
        chat_p99=percentile(latencies, 0.99),
        chat_max=max(latencies, default=float("nan")),
        unanswered=unanswered,
        latencies=latencies,
    )


async def index_folder(server: DovecotServer) -> int:
    """Let Dovecot index the new Maildir (not part of anybody's time); the count."""
    account = server.account()
    async with imap_session(account.host, account.port, account.user, account.password) as imap:
        response = await imap.select("INBOX")
    return next(
        int(bytes(line).split()[0]) for line in response.lines if bytes(line).endswith(b"EXISTS")
    )


def _store_url(store: str, data_dir: Path) -> tuple[str, Any]:
    if store == "sqlite":
        return f"sqlite+aiosqlite:///{data_dir}/lokalnie.db", None
    from tests.servers import postgres

    if not postgres.available():
        raise SystemExit(f"PostgreSQL not available: {postgres.describe_target()}")
    database = postgres.ThrowawayDatabase().create()
    return database.url, database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--store", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--chat-interval", type=float, default=1.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    raws = messages(args.messages)
    size = sum(len(raw) for raw in raws)
    results: dict[str, Any] = {
        "messages": args.messages,
        "megabytes": round(size / 1e6, 1),
        "python": platform.python_version(),
        "aioimaplib": metadata.version("aioimaplib"),
        "cpus": os.cpu_count(),
        "load_before": os.getloadavg(),
        "runs": [],
    }
    stores = ["sqlite", "postgresql"] if args.store == "both" else [args.store]
    with DovecotServer() as server, tempfile.TemporaryDirectory() as scratch:
        fill_maildir(server, DEFAULT_USER, raws)
        count = asyncio.run(index_folder(server))
        print(f"{count} messages, {size / 1e6:.1f} MB in the Maildir")
        for store in stores:
            data_dir = Path(scratch) / store
            data_dir.mkdir()
            url, throwaway = _store_url(store, data_dir)
            try:
                result = asyncio.run(run_once(server, store, url, data_dir, args.chat_interval))
            finally:
                if throwaway is not None:
                    throwaway.drop()
                shutil.rmtree(data_dir, ignore_errors=True)
            print(
                f"{store}: {result.messages} messages in {result.seconds:.1f} s "
                f"({result.per_second:,.0f} msg/s); resident's replies over "
                f"{result.chat_lines} lines: p50 {result.chat_p50 * 1000:.0f} ms, "
                f"p99 {result.chat_p99 * 1000:.0f} ms, max {result.chat_max * 1000:.0f} ms"
                + (f", {result.unanswered} unanswered" if result.unanswered else "")
            )
            results["runs"].append({k: v for k, v in asdict(result).items() if k != "latencies"})
    results["load_after"] = os.getloadavg()
    print(
        f"load average before {results['load_before'][0]:.2f}, after {results['load_after'][0]:.2f}"
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
