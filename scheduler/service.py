"""APScheduler 3 in the bot's loop, its jobs planned from the store.

The store is the only record: what should run comes from content and the store
(`handlers.broadcasts.plan`), and what ran is in `job_runs`, written in the same
transaction as the job's work. So the scheduler keeps its jobs in memory and is
re-planned on start, whenever something it depends on changes, and every few
minutes; a job that ran is never planned again, and a job due while the bot was
down is planned on start and runs once if it is late by less than the grace
period. No job store of its own: no second database file, no synchronous driver.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from handlers.broadcasts.plan import PlannedJob, current_plan
from handlers.broadcasts.rules import ScheduleRules
from scheduler import jobs

log = logging.getLogger(__name__)
PREFIXES = ("survey-reminder:", "contest-reminder:", "announcement:", "broadcast:")


class JobScheduler:
    def __init__(self, runtime: jobs.JobRuntime, rules: ScheduleRules) -> None:
        self.runtime = runtime
        self.rules = rules
        self.scheduler = AsyncIOScheduler(
            jobstores={"default": MemoryJobStore()},
            job_defaults={
                # A job planned on start for a moment already past runs at once,
                # as long as it is late by less than the plan's own grace period
                # (APScheduler's default of 1 s would drop it silently).
                "misfire_grace_time": int(rules.grace_period.total_seconds()),
                # Never two runs of one job at once, and one run for several missed.
                "coalesce": True,
                "max_instances": 1,
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

    def changed(self) -> None:
        """Something the plan depends on changed (a broadcast, an announcement)."""
        self._dirty.set()

    async def sync(self) -> list[PlannedJob]:
        """Make the scheduler hold exactly the planned jobs (the ones that ran are not)."""
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
