"""Every page of the coordinators' panel over a full store: the 95th percentile per page.

    python -m benchmarks.panel_pages [--store sqlite|postgresql|both] [--requests 40]
                                     [--proposals 300] [--responses 5000] [--mails 20000]
                                     [--json FILE]

The store (a fresh SQLite file, or a throw-away PostgreSQL database from
`tests.servers.postgres`) is migrated and filled through the storage functions
where a page's numbers depend on them (proposals with their history and budget,
scores by two coordinators, broadcasts) and with bulk inserts of the same
models for the volume (residents, survey responses with every closed answer,
mail threads and messages, outbox rows, audit entries):

* `--proposals` submitted proposals in the sample contest, each scored on every
  criterion by the signed-in coordinator and one more;
* `--responses` finished responses to `diagnoza-2021` from as many residents
  (half subscribed), spread over the last 30 days, the survey closing in 10
  days (so its reminders are planned and counted);
* `--mails` messages in threads of one to five, a third of the threads open;
* three broadcasts of 2,000 outbox rows each and 1,000 audit entries.

Then the panel is served as `lokalnie panel` serves it (Tornado on loopback, in
this process) and a coordinator signed in with a one-time link requests every
page `--requests` times in turn after two warm-up rounds; a page that answers
404 (a page group not in this version: the inbox, the surveys) is left out.
Timed: from sending the request to the whole body read (httpx on loopback), and
this process's CPU time over the same span (server and client: what a page costs
on a core of its own, less sensitive to what else the machine runs).
The goal: p95 under 200 ms for every page.
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
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from benchmarks.panel_seed import SECOND_SCORER, seed

ROOT = Path(__file__).resolve().parent.parent
GOAL_MS = 200.0
# Pages: (name, path); "{proposal}" and "{thread}" are filled in from the store.
PAGES = [
    ("dashboard", "/"),
    ("proposals list", "/proposals"),
    ("proposals search", "/proposals?q=fair&sort=score"),
    ("proposal detail", "/proposals/{proposal}"),
    ("ranking and selection", "/ranking"),
    ("inbox list", "/inbox"),
    ("inbox thread", "/inbox/{thread}"),
    ("broadcasts", "/broadcasts"),
    ("broadcast compose", "/broadcasts/new"),
    ("recipient count (JSON)", "/broadcasts/count?audience=subscribers"),
    ("broadcast progress (JSON)", "/broadcasts/progress"),
    ("surveys", "/surveys"),
    ("survey results", "/surveys/diagnoza-2021"),
    ("audit log", "/audit"),
]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def measure(url: str, data_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    import httpx

    from bot.app import Service
    from bot.startup import settle_memory
    from panel import links
    from panel.app import Panel, PanelServer
    from panel.config import load_config
    from storage.migrate import upgrade_async
    from storage.types import utcnow
    from tests.conftest import make_settings
    from tests.handlers.contest_fixture import sample_contest
    from tests.panel.conftest import sign_in

    await upgrade_async(url)
    service = Service(make_settings(url, data_dir, coordinator_ids=f"900001,{SECOND_SCORER}"))
    await service.prepare()
    services = service.services
    services.contest = sample_contest()
    diagnosis = services.surveys["diagnoza-2021"]
    services.surveys = {
        **services.surveys,
        "diagnoza-2021": diagnosis.model_copy(
            update={"opens": None, "closes": utcnow() + timedelta(days=10)}
        ),
    }
    started = time.perf_counter()
    ids = await seed(service, args)
    seeded = time.perf_counter() - started
    config = await load_config(service.store, base_url="", secret=None)
    panel = Panel(store=service.store, services=services, config=config)
    server = PanelServer(panel)
    port = server.listen(host="127.0.0.1", port=0)
    settle_memory()  # as `lokalnie panel` and `lokalnie run` do once started
    base_url = f"http://127.0.0.1:{port}"
    panel.config = replace(config, base_url=base_url)
    timings: dict[str, list[float]] = {}
    # This process's CPU time per request (server and client): what the page costs
    # on a core of its own, whatever else the machine is doing.
    cpu_ms: dict[str, list[float]] = {}
    skipped: list[str] = []
    try:
        async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
            link = links.make_link(base_url, panel.config.key, 900_001, services.clock())
            await sign_in(client, link)
            pages = []
            for name, path in PAGES:
                path = path.format(**ids)
                answer = await client.get(path)
                if answer.status_code == 404:
                    skipped.append(name)
                    continue
                answer.raise_for_status()
                pages.append((name, path))
            for _ in range(2):  # warm-up
                for _, path in pages:
                    await client.get(path)
            for _ in range(args.requests):
                for name, path in pages:
                    began, cpu = time.perf_counter(), time.process_time()
                    answer = await client.get(path)
                    answer.read()
                    timings.setdefault(name, []).append((time.perf_counter() - began) * 1000)
                    cpu_ms.setdefault(name, []).append((time.process_time() - cpu) * 1000)
                    assert answer.status_code == 200, (name, answer.status_code)
    finally:
        await server.stop()
        await service.close()
    return {
        "seconds_to_seed": round(seeded, 1),
        "timings": timings,
        "cpu_ms": cpu_ms,
        "skipped": skipped,
    }


def table(store: str, result: dict[str, Any]) -> list[str]:
    lines = [
        f"{'page':28} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'cpu p50':>8} {'cpu p95':>8}"
        f"  p95 < {GOAL_MS:.0f} ms ({store})"
    ]
    for name, values in result["timings"].items():
        p95 = percentile(values, 0.95)
        cpu = result["cpu_ms"][name]
        verdict = "met" if p95 < GOAL_MS else "MISSED"
        lines.append(
            f"{name:28} {statistics.median(values):8.1f} {p95:8.1f} {max(values):8.1f}"
            f" {statistics.median(cpu):8.1f} {percentile(cpu, 0.95):8.1f}  {verdict}"
        )
    if result["skipped"]:
        lines.append("not in this version (404): " + ", ".join(result["skipped"]))
    return lines


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
    parser.add_argument("--store", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--proposals", type=int, default=300)
    parser.add_argument("--responses", type=int, default=5000)
    parser.add_argument("--mails", type=int, default=20_000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    report: dict[str, Any] = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_before": os.getloadavg(),
        "runs": {},
    }
    stores = ["sqlite", "postgresql"] if args.store == "both" else [args.store]
    with tempfile.TemporaryDirectory() as scratch:
        for store in stores:
            data_dir = Path(scratch) / store
            data_dir.mkdir()
            url, throwaway = _store_url(store, data_dir)
            try:
                result = asyncio.run(measure(url, data_dir, args))
            finally:
                if throwaway is not None:
                    throwaway.drop()
                shutil.rmtree(data_dir, ignore_errors=True)
            print(f"{store}: store filled in {result['seconds_to_seed']} s")
            print("\n".join(table(store, result)))
            print()
            report["runs"][store] = result
    report["load_after"] = os.getloadavg()
    print(
        f"load average before {report['load_before'][0]:.2f}, after {report['load_after'][0]:.2f}"
    )
    print(
        "reproduce: python -m benchmarks.panel_pages "
        f"--store {args.store} --requests {args.requests} --proposals {args.proposals} "
        f"--responses {args.responses} --mails {args.mails}"
    )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
