"""APScheduler 3 in the bot's loop, with a persistent job store beside the service's data.

The store needs a synchronous driver (SQLite's own, or psycopg for PostgreSQL).
On PostgreSQL it lives in the same database. On SQLite it gets a sibling file
(`lokalnie-jobs.db` next to `lokalnie.db`): SQLite has one write lock per file,
and APScheduler writes synchronously from the event loop, so waiting for a lock
held by one of our async transactions would stop the very loop that must finish
that transaction.
Job ids are stable and added with `replace_existing`, so a restart neither loses
nor duplicates a job; a job due while the bot was down runs once on start when
it is late by less than the grace period (coalesced).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime
from pathlib import Path

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine, make_url

from handlers.broadcasts.plan import PlannedJob, current_plan
from handlers.broadcasts.rules import ScheduleRules
from scheduler import jobs

log = logging.getLogger(__name__)
PREFIXES = ("survey-reminder:", "contest-reminder:", "announcement:", "broadcast:")
TABLE = "apscheduler_jobs"


def sync_url(database_url: str) -> str:
    """The job store's URL, through a synchronous driver (see the module docstring)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database and database != ":memory:":
            path = Path(database)
            database = str(path.with_name(f"{path.stem}-jobs{path.suffix or '.db'}"))
        return url.set(drivername="sqlite", database=database).render_as_string(hide_password=False)
    return url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def job_store_engine(database_url: str) -> Engine:
    url = sync_url(database_url)
    if url.startswith("sqlite"):
        # Waits for the bot's own writer instead of failing on a busy file.
        return create_engine(url, connect_args={"timeout": 15})
    return create_engine(url, pool_pre_ping=True)


class JobScheduler:
    def __init__(self, runtime: jobs.JobRuntime, rules: ScheduleRules, database_url: str) -> None:
        self.runtime = runtime
        self.rules = rules
        self.engine = job_store_engine(database_url)
        self.scheduler = AsyncIOScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=self.engine, tablename=TABLE)},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": int(rules.grace_period.total_seconds()),
            },
            timezone=runtime.services.timezone,
        )
        self._dirty = asyncio.Event()

    def start(self) -> None:
        jobs.install(self.runtime)
        self.scheduler.start()

    def shutdown(self) -> None:
        with contextlib.suppress(Exception):
            self.scheduler.shutdown(wait=False)
        jobs.install(None)
        self.engine.dispose()

    def changed(self) -> None:
        """Something the plan depends on changed (a broadcast, an announcement)."""
        self._dirty.set()

    async def sync(self) -> list[PlannedJob]:
        """Make the job store hold exactly the planned jobs."""
        runtime = self.runtime
        async with runtime.store.transaction() as session:
            planned = await current_plan(
                session,
                surveys=runtime.services.surveys,
                contest=runtime.services.contest,
                rules=self.rules,
                now=runtime.services.clock(),
            )
        wanted = {job.id for job in planned}
        for existing in self.scheduler.get_jobs():
            if existing.id.startswith(PREFIXES) and existing.id not in wanted:
                existing.remove()
        for job in planned:
            self.scheduler.add_job(
                jobs.run_job,
                "date",
                run_date=job.run_at,
                args=[job.kind, job.key, job.id],
                id=job.id,
                name=job.id,
                replace_existing=True,
            )
        return planned

    def scheduled(self) -> list[tuple[str, datetime | None]]:
        return [(job.id, job.next_run_time) for job in self.scheduler.get_jobs()]

    async def run(self, *, every: float = 300.0) -> None:
        """Replan on start, whenever something changed, and every few minutes."""
        while True:
            self._dirty.clear()
            try:
                await self.sync()
            except Exception:
                log.exception("could not plan the scheduled jobs")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(every):
                    await self._dirty.wait()
