"""Messages/s of Lokalnie's mailbox import against a bare aioimaplib fetch loop.

    python -m benchmarks.mail_import [--messages 10000] [--store sqlite|postgresql|both]
                                     [--batch N] [--bare-batches 25,50] [--runs 3]
                                     [--json FILE]

A private Dovecot (the test bed's, `tests.servers.dovecot`) gets N messages written
straight into its Maildir: the test corpus (`tests.mail.corpus`: UTF-8, ISO-8859-2 and
Windows-1250, encoded words, QP and base64, HTML-only, Outlook-style attachments, RFC
2231 names, broken MIME, a 100,000-character line, auto-replies ...) in turn, each
given a Message-ID of its own. Dovecot indexes the folder once before anything is timed.

* bare: an aioimaplib client connects, logs in, opens the folder, runs `UID SEARCH
  ALL`, then `UID FETCH <batch> (UID BODY.PEEK[])` batch after batch, only counting
  the literals, and logs out: the floor of an IMAP fetch loop with this library as it
  comes. Its clock runs from before it connects to after it logs out, as Lokalnie's
  does. Its cost per message grows with the batch (aioimaplib rescans a FETCH
  answer's earlier lines for every new one), so it runs at the size of
  `--bare-batches` that is fastest here: before the rounds, each size runs three
  times, in turn, and the best median is kept. (Each round then runs it once, as it
  runs Lokalnie once: the fastest of several runs in every round would also pick the
  luckiest of them, on a machine whose speed drifts from run to run.)
* lokalnie: `MailboxWatcher.sync()`, what `lokalnie mail sync` runs, at the watcher's
  own batch size unless `--batch` says otherwise: the same search, the sizes of the
  large messages, the fetches (by fetching processes with their own connections, one
  per core), MIME parsing (texts, HTML to text, attachments written to disk),
  threading, and the transactions with the checkpoint, into a fresh migrated store.

`--runs` rounds each run the bare loop, then Lokalnie on each store (a fresh store each
time), back to back. The ratio is lokalnie / bare, given best run against best run and
round by round (runs seconds apart, on a machine whose speed drifts); the goal is at
least 0.5. For each run the CPU time per message of this process, of its child
processes (the fetching processes) and of the whole machine (every process, Dovecot
and PostgreSQL included) is printed too, and the load average before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import pwd
import resource
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import aioimaplib

from bot.mail.imap import BATCH_MESSAGES
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


def machine_cpu() -> float:
    """CPU seconds the whole machine has spent busy (all cores, every process)."""
    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Run:
    """One timed run: messages, seconds, and CPU seconds of this process, of its
    children and of the whole machine."""

    count: int
    elapsed: float
    cpu: float
    children: float
    machine: float

    @property
    def per_second(self) -> float:
        return self.count / self.elapsed

    def ms_per_message(self, seconds: float) -> float:
        return seconds / self.count * 1000


class Clock:
    """Wall time and CPU times from `start()` to `stop()`."""

    def start(self) -> None:
        self.marks = (time.perf_counter(), time.process_time(), children_cpu(), machine_cpu())

    def stop(self, count: int) -> Run:
        wall, cpu, children, machine = self.marks
        return Run(
            count,
            time.perf_counter() - wall,
            time.process_time() - cpu,
            children_cpu() - children,
            machine_cpu() - machine,
        )


async def bare_fetch(server: DovecotServer, batch: int) -> Run:
    account = server.account()
    # The clock runs from before connecting to after logging out, as Lokalnie's does
    # (its sync connects, logs in, opens the folder ... and logs out).
    clock = Clock()
    clock.start()
    client = aioimaplib.IMAP4(host=account.host, port=account.port, timeout=60)
    await client.wait_hello_from_server()
    await client.login(account.user, account.password)
    await client.select("INBOX")
    search = await client.uid_search("ALL", charset=None)
    uids = search.lines[0].split()
    count = 0
    for start in range(0, len(uids), batch):
        chunk = b",".join(uids[start : start + batch]).decode()
        response = await client.uid("fetch", chunk, "(UID BODY.PEEK[])")
        count += sum(1 for line in response.lines if isinstance(line, bytearray))
    await client.logout()
    return clock.stop(count)


async def lokalnie_import(
    server: DovecotServer, database_url: str, data_dir: Path, batch: int
) -> Run:
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
        clock = Clock()
        clock.start()
        report = await watcher.sync()
        run = clock.stop(report.stored)
    finally:
        await service.close()
    return run


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
    parser.add_argument(
        "--batch", type=int, default=None, help="Lokalnie's messages per fetch (its default)"
    )
    parser.add_argument(
        "--bare-batches",
        default="25,50",
        help="the bare loop's messages per fetch to choose from (the fastest here is used)",
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    raws = messages(args.messages)
    results: dict[str, Any] = {
        "messages": args.messages,
        "batch": args.batch or BATCH_MESSAGES,
        "bare_batches": args.bare_batches,
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
        bare_batches = [int(b) for b in args.bare_batches.split(",")]
        asyncio.run(bare_fetch(server, bare_batches[0]))
        bare_batch, trials = _fastest_bare_batch(server, bare_batches)
        results["bare_batch"] = bare_batch
        results["bare_trials"] = trials
        listed = "; ".join(
            f"{size}: " + ", ".join(f"{rate:,.0f}" for rate in rates)
            for size, rates in trials.items()
        )
        print(f"bare loop at {bare_batch} per fetch (msg/s by size, {listed})")

        # Rounds: the bare loop, then each store, back to back, so that each ratio is
        # taken between runs a few seconds apart (this machine's speed drifts by a
        # quarter over minutes when others use it).
        stores = ["sqlite", "postgresql"] if args.store == "both" else [args.store]
        bare: list[Run] = []
        imports: dict[str, list[Run]] = {store: [] for store in stores}
        ratios: dict[str, list[float]] = {store: [] for store in stores}
        for number in range(args.runs):
            run = asyncio.run(bare_fetch(server, bare_batch))
            assert run.count == args.messages, f"bare fetch saw {run.count} messages"
            bare.append(run)
            for store in stores:
                found = _import_once(server, store, Path(scratch) / f"{store}-{number}", args)
                if found is not None:
                    imports[store].append(found)
                    ratios[store].append(found.per_second / run.per_second)
        results["bare"] = _summary(bare)
        print(f"bare aioimaplib fetch: {_rates(bare)}\n  {_cpu_text(bare)}")
        for store in stores:
            runs = imports[store]
            if not runs:
                continue
            summary = _summary(runs)
            summary["ratio"] = summary["per_second"] / results["bare"]["per_second"]
            summary["round_ratios"] = ratios[store]
            results[store] = summary
            listed = ", ".join(f"{r:.2f}" for r in ratios[store])
            print(
                f"lokalnie on {store}: {_rates(runs)}\n"
                f"  ratio to bare: best to best {summary['ratio']:.2f}; "
                f"round by round {listed} (median {statistics.median(ratios[store]):.2f})"
            )
            print(f"  {_cpu_text(runs)}")
    results["load_after"] = os.getloadavg()
    print(
        "load average before {:.2f}, after {:.2f}".format(
            results["load_before"][0], results["load_after"][0]
        )
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


def _fastest_bare_batch(
    server: DovecotServer, sizes: list[int], trials: int = 3
) -> tuple[int, dict[int, list[float]]]:
    """The bare loop's fastest size here (best median of `trials` runs each, in turn),
    and the rates each size ran at."""
    rates: dict[int, list[float]] = {size: [] for size in sizes}
    if len(sizes) > 1:
        for _ in range(trials):
            for size in sizes:
                rates[size].append(asyncio.run(bare_fetch(server, size)).per_second)
    best = max(sizes, key=lambda size: statistics.median(rates[size] or [0.0]))
    return best, rates


def _import_once(
    server: DovecotServer, store: str, data_dir: Path, args: argparse.Namespace
) -> Run | None:
    throwaway = None
    if store == "sqlite":
        url = f"sqlite+aiosqlite:///{data_dir}/lokalnie.db"
    else:
        found = _postgres_url()
        if found is None:
            return None
        throwaway, url = found
    try:
        run = asyncio.run(lokalnie_import(server, url, data_dir, args.batch or BATCH_MESSAGES))
    finally:
        if throwaway is not None:
            throwaway.drop()
        shutil.rmtree(data_dir, ignore_errors=True)
    assert run.count == args.messages, f"{store}: stored {run.count} messages"
    return run


def _summary(runs: list[Run]) -> dict[str, Any]:
    return {
        "per_second": max(r.per_second for r in runs),
        "runs": [r.per_second for r in runs],
        "cpu_ms": [r.ms_per_message(r.cpu) for r in runs],
        "children_cpu_ms": [r.ms_per_message(r.children) for r in runs],
        "machine_cpu_ms": [r.ms_per_message(r.machine) for r in runs],
    }


def _cpu_text(runs: list[Run]) -> str:
    """CPU time per message: this process, its children, the whole machine."""

    def listed(values: list[float]) -> str:
        return ", ".join(f"{v:.3f}" for v in values)

    return (
        f"CPU per message (ms): this process {listed([r.ms_per_message(r.cpu) for r in runs])}"
        f"; its children {listed([r.ms_per_message(r.children) for r in runs])}"
        f"; the machine {listed([r.ms_per_message(r.machine) for r in runs])}"
    )


def _rates(runs: list[Run]) -> str:
    rates = [r.per_second for r in runs]
    listed = ", ".join(f"{r:,.0f}" for r in rates)
    return f"best {max(rates):,.0f} msg/s (median {statistics.median(rates):,.0f}; runs {listed})"


if __name__ == "__main__":
    main()
