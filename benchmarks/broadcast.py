"""A broadcast to N residents (default 10,000) through the real sender and PTB Bot,
against the fake Bot API in a process of its own.

    python -m benchmarks.broadcast [--recipients 10000] [--rate 25] [--store sqlite|postgresql]

Two runs: at the configured rate (the achieved rate as a share of it; the goal
is >= 95 %) and with the cap lifted (`--rate 0`; the goal is >= 500 msg/s).
Prints messages/s, the share of the configured rate and the peak memory
(ru_maxrss of this process, which holds the store session, the sender and the
job). No figure here is asserted anywhere; benchmarks/README.md records a run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, insert, select
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.delivery import OutboxSender
from bot.telegram import POOL_SIZE, TelegramTransport
from handlers.core.centre import load_centre
from handlers.core.i18n import Translator
from handlers.core.services import Services
from scheduler.broadcast_job import run_broadcast
from scheduler.runtime import JobRuntime
from storage import schedule
from storage.db import Store
from storage.migrate import upgrade
from storage.models import OutboxMessage, Resident

ROOT = Path(__file__).resolve().parent.parent


def start_fake() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.fake_api", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    fields = dict(part.split("=", 1) for part in line.split()[1:])
    return process, fields["base_url"]


async def seed(store: Store, recipients: int) -> int:
    now = datetime.now(UTC)
    async with store.transaction() as session:
        await session.execute(
            insert(Resident),
            [
                {
                    "telegram_id": 5_000_000 + i,
                    "name": f"R{i}",
                    "language": "pl",
                    "consent_given_at": now,
                    "subscribed": True,
                    "blocked": False,
                    "created_at": now,
                }
                for i in range(recipients)
            ],
        )
        broadcast = await schedule.create_broadcast(
            session, created_by=None, text="Zapraszamy na festyn!", audience="subscribers"
        )
    return broadcast.id


async def one_run(url: str, base_url: str, recipients: int, rate: float) -> dict[str, float]:
    store = Store(url)
    broadcast_id = await seed(store, recipients)
    translator = Translator(ROOT / "content" / "locales")
    services = Services(
        translator=translator,
        centre=load_centre(ROOT / "content"),
        timezone=datetime.now().astimezone().tzinfo,
        chat_channel="telegram",
    )  # type: ignore[arg-type]
    # PTB's own HTTP client, with the pool the application uses.
    request = HTTPXRequest(connection_pool_size=POOL_SIZE)
    async with Bot("123:BENCH", base_url=base_url, request=request) as bot:
        sender = OutboxSender(store, {"telegram": TelegramTransport(bot)}, rate=rate)
        runtime = JobRuntime(store, services, wake_sender=sender.wake, progress_every=1.0)
        sender_task = asyncio.create_task(sender.run(idle_seconds=0.2))
        started_wall = datetime.now(UTC)
        started = time.perf_counter()
        cpu_started = time.process_time()
        outcome = await run_broadcast(runtime, broadcast_id, f"bench:{broadcast_id}")
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        sender_task.cancel()
        with __import__("contextlib").suppress(asyncio.CancelledError):
            await sender_task
    async with store.transaction() as session:
        progress = await schedule.progress(session, broadcast_id)
        first, last = (
            await session.execute(
                select(func.min(OutboxMessage.sent_at), func.max(OutboxMessage.sent_at)).where(
                    OutboxMessage.broadcast_id == broadcast_id
                )
            )
        ).one()
    await store.close()
    sent = progress["sent"]
    delivering = (last - first).total_seconds()
    overall = (last - started_wall).total_seconds()
    return {
        "sent": sent,
        # From the first to the last recorded delivery.
        "delivering_seconds": delivering,
        "delivering_rate": sent / delivering if delivering > 0 else 0.0,
        # From the job's start (audience expansion included) to the last delivery.
        "seconds": overall,
        "rate": sent / overall,
        # Until the job returned: it notices the end at its next progress tick (1 s).
        "job_seconds": elapsed,
        "cpu_ms_per_message": 1000 * cpu / max(sent, 1),
        "outcome": outcome,
    }


def fresh_sqlite() -> str:
    folder = tempfile.mkdtemp(prefix="lokalnie-bench-")
    url = f"sqlite+aiosqlite:///{folder}/bench.db"
    upgrade(url)
    return url


def fresh_postgres() -> tuple[str, object]:
    sys.path.insert(0, str(ROOT))
    from tests.servers.postgres import ThrowawayDatabase

    database = ThrowawayDatabase().create()
    upgrade(database.url)
    return database.url, database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=25.0)
    parser.add_argument("--store", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--skip-paced", action="store_true", help="only the uncapped run")
    args = parser.parse_args()
    fake, base_url = start_fake()
    try:
        rows = []
        for rate in ([] if args.skip_paced else [args.rate]) + [0.0]:
            cleanup = None
            if args.store == "sqlite":
                url = fresh_sqlite()
            else:
                url, cleanup = fresh_postgres()
            result = asyncio.run(one_run(url, base_url, args.recipients, rate))
            if cleanup is not None:
                cleanup.drop()  # type: ignore[attr-defined]
            rows.append((rate, result))
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"broadcast to {args.recipients} recipients on {args.store}, "
            f"python {sys.version.split()[0]}, {os.cpu_count()} cores"
        )
        print(
            "overall = job start to last delivery; delivering = first to last delivery; "
            "job = until run_broadcast returned"
        )
        print(
            f"{'configured':>12} {'sent':>7} {'overall s':>9} {'msg/s':>8} {'share':>7} "
            f"{'deliv. s':>9} {'msg/s':>8} {'job s':>7} {'cpu ms/msg':>10}"
        )
        for rate, result in rows:
            share = f"{100 * result['rate'] / rate:.1f}%" if rate else "-"
            label = f"{rate:g}/s" if rate else "uncapped"
            print(
                f"{label:>12} {result['sent']:>7} {result['seconds']:>9.1f} "
                f"{result['rate']:>8.1f} {share:>7} {result['delivering_seconds']:>9.1f} "
                f"{result['delivering_rate']:>8.1f} {result['job_seconds']:>7.1f} "
                f"{result['cpu_ms_per_message']:>10.2f}"
            )
        print(f"peak memory (ru_maxrss of the benchmark process): {peak_mb:.0f} MB")
    finally:
        fake.terminate()
        fake.wait(timeout=10)


if __name__ == "__main__":
    main()
