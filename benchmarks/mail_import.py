"""Messages/s of Lokalnie's mailbox import against a bare aioimaplib fetch loop.

    python -m benchmarks.mail_import [--messages 10000] [--store sqlite|postgresql|both]
                                     [--batch 50] [--runs 3] [--json FILE]

A private Dovecot (the test bed's, `tests.servers.dovecot`) gets N messages written
straight into its Maildir: the test corpus (`tests.mail.corpus`: UTF-8, ISO-8859-2 and
Windows-1250, encoded words, QP and base64, HTML-only, Outlook-style attachments, RFC
2231 names, broken MIME, a 100,000-character line, auto-replies ...) in turn, each
given a Message-ID of its own. Dovecot indexes the folder once before anything is timed.

* bare: a logged-in aioimaplib client runs `UID SEARCH ALL`, then `UID FETCH <batch>
  (UID BODY.PEEK[])` batch after batch, and only counts the literals. That is the
  floor of any IMAP import in Python with this library.
* lokalnie: `MailboxWatcher.sync()`, what `lokalnie mail sync` runs: the same search,
  sizes, the same fetches, then MIME parsing (texts, HTML to text, attachments written
  to disk), threading, and one transaction per batch with the checkpoint, into a fresh
  migrated store.

Each target runs `--runs` times (a fresh store each time); the best run counts (the
others are printed). The ratio is lokalnie / bare; the goal is at least 0.5. For each
run the CPU time of this process per message is printed too (the parser process,
Dovecot and PostgreSQL not counted), and the load average before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import pwd
import shutil
import statistics
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import aioimaplib

from tests.mail import corpus
from tests.servers.dovecot import DEFAULT_USER, DovecotServer

ROOT = Path(__file__).resolve().parent.parent


def messages(count: int) -> list[bytes]:
    templates = [case.raw for case in corpus.corpus()]
    return [
        f"Message-ID: <bench-{n}@lokalnie.bench>\r\n".encode() + templates[n % len(templates)]
        for n in range(count)
    ]


def fill_maildir(server: DovecotServer, user: str, raws: list[bytes]) -> int:
    """Write the messages as Maildir files (Dovecot picks them up on the next sync)."""
    maildir = server.conf_path.parent / "home" / user / "Maildir"
    owner = pwd.getpwnam("nobody") if os.geteuid() == 0 else None
    for sub in ("", "cur", "new", "tmp"):
        path = maildir / sub
        path.mkdir(parents=True, exist_ok=True)
        if owner is not None:
            os.chown(path, owner.pw_uid, owner.pw_gid)
    stamp = int(time.time())
    total = 0
    for number, raw in enumerate(raws):
        path = maildir / "cur" / f"{stamp}.M{number}P{os.getpid()}.bench:2,"
        path.write_bytes(raw)
        if owner is not None:
            os.chown(path, owner.pw_uid, owner.pw_gid)
        total += len(raw)
    return total


async def bare_fetch(server: DovecotServer, batch: int) -> tuple[int, float, float]:
    account = server.account()
    client = aioimaplib.IMAP4(host=account.host, port=account.port, timeout=60)
    await client.wait_hello_from_server()
    await client.login(account.user, account.password)
    await client.select("INBOX")
    cpu = time.process_time()
    started = time.perf_counter()
    search = await client.uid_search("ALL", charset=None)
    uids = search.lines[0].split()
    count = 0
    for start in range(0, len(uids), batch):
        chunk = b",".join(uids[start : start + batch]).decode()
        response = await client.uid("fetch", chunk, "(UID BODY.PEEK[])")
        count += sum(1 for line in response.lines if isinstance(line, bytearray))
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    await client.logout()
    return count, elapsed, cpu


async def lokalnie_import(
    server: DovecotServer, database_url: str, data_dir: Path, batch: int
) -> tuple[int, float, float]:
    from bot.app import Service
    from bot.config import load_settings
    from bot.mail.imap import MailboxWatcher
    from storage.migrate import upgrade_async

    account = server.account()
    settings = load_settings(
        _env_file=None,
        database_url=database_url,
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
        watcher = MailboxWatcher(
            settings, service.store, service.services, batch_messages=batch, timeout=120
        )
        cpu = time.process_time()
        started = time.perf_counter()
        report = await watcher.sync()
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu
    finally:
        await service.close()
    return report.stored, elapsed, cpu


def _postgres_url() -> tuple[Any, str] | None:
    from tests.servers import postgres

    if not postgres.available():
        print(f"PostgreSQL skipped: {postgres.describe_target()}")
        return None
    database = postgres.ThrowawayDatabase().create()
    return database, database.url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--store", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    raws = messages(args.messages)
    results: dict[str, Any] = {
        "messages": args.messages,
        "batch": args.batch,
        "python": platform.python_version(),
        "aioimaplib": metadata.version("aioimaplib"),
        "cpus": os.cpu_count(),
        "load_before": os.getloadavg(),
    }
    with DovecotServer() as server, tempfile.TemporaryDirectory() as scratch:
        size = fill_maildir(server, DEFAULT_USER, raws)
        results["megabytes"] = round(size / 1e6, 1)
        print(f"{args.messages} messages, {size / 1e6:.1f} MB in the Maildir")
        # Dovecot builds its index on first access; not part of anybody's time.
        asyncio.run(bare_fetch(server, args.batch))

        bare = [asyncio.run(bare_fetch(server, args.batch)) for _ in range(args.runs)]
        for count, _elapsed, _cpu in bare:
            assert count == args.messages, f"bare fetch saw {count} messages"
        bare_rates = [count / elapsed for count, elapsed, _cpu in bare]
        bare_cpu = [cpu / count * 1000 for count, _elapsed, cpu in bare]
        results["bare"] = {"per_second": max(bare_rates), "runs": bare_rates, "cpu_ms": bare_cpu}
        print(f"bare aioimaplib fetch: {_rates(bare_rates)}; {_cpu_text(bare_cpu)}")

        stores = ["sqlite", "postgresql"] if args.store == "both" else [args.store]
        for store in stores:
            rates = []
            cpus = []
            for run in range(args.runs):
                data_dir = Path(scratch) / f"{store}-{run}"
                throwaway = None
                if store == "sqlite":
                    url = f"sqlite+aiosqlite:///{data_dir}/lokalnie.db"
                else:
                    found = _postgres_url()
                    if found is None:
                        break
                    throwaway, url = found
                try:
                    stored, elapsed, cpu = asyncio.run(
                        lokalnie_import(server, url, data_dir, args.batch)
                    )
                finally:
                    if throwaway is not None:
                        throwaway.drop()
                    shutil.rmtree(data_dir, ignore_errors=True)
                assert stored == args.messages, f"{store}: stored {stored} messages"
                rates.append(stored / elapsed)
                cpus.append(cpu / stored * 1000)
            if not rates:
                continue
            best = max(rates)
            ratio = best / results["bare"]["per_second"]
            results[store] = {"per_second": best, "runs": rates, "ratio": ratio, "cpu_ms": cpus}
            print(f"lokalnie on {store}: {_rates(rates)}; ratio to bare {ratio:.2f}")
            print(f"  {_cpu_text(cpus)}")
    results["load_after"] = os.getloadavg()
    print(
        "load average before {:.2f}, after {:.2f}".format(
            results["load_before"][0], results["load_after"][0]
        )
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


def _cpu_text(per_message: list[float]) -> str:
    """CPU time of this process per message (the parser process and servers not counted)."""
    runs = ", ".join(f"{c:.3f}" for c in per_message)
    return f"this process's CPU per message {runs} ms"


def _rates(rates: list[float]) -> str:
    runs = ", ".join(f"{r:,.0f}" for r in rates)
    return f"best {max(rates):,.0f} msg/s (median {statistics.median(rates):,.0f}; runs {runs})"


if __name__ == "__main__":
    main()
