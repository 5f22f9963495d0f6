"""What scheduled jobs do. Module-level coroutines, so APScheduler can store them.

Every job writes its messages to the outbox with keys derived from the job id
and the recipient, and records itself in `job_runs` in the same transaction:
a job fired twice (a restart, a misfire) sends nothing twice. This module is
what APScheduler calls; the jobs themselves are in `reminders.py`,
`announcement.py` and `broadcast_job.py`.
"""

from __future__ import annotations

import logging

from handlers.broadcasts import plan
from scheduler import reminders
from scheduler.announcement import announcement
from scheduler.broadcast_job import run_broadcast
from scheduler.runtime import JobRuntime
from storage import schedule as store

log = logging.getLogger(__name__)


_runtime: JobRuntime | None = None


def install(runtime: JobRuntime | None) -> None:
    """Give the jobs the running service (APScheduler stores only a function name)."""
    global _runtime
    _runtime = runtime


async def run_job(kind: str, key: str, job_id: str) -> None:
    """The one function APScheduler calls."""
    if _runtime is None:
        log.error("job %s fired before the service was installed", job_id)
        return
    try:
        await execute(_runtime, kind, key, job_id)
    except Exception:
        log.exception("job %s failed", job_id)


async def execute(runtime: JobRuntime, kind: str, key: str, job_id: str) -> str:
    """Run one job unless it already ran; returns what it did (for logs and tests)."""
    async with runtime.store.transaction() as session:
        if await store.job_ran(session, job_id):
            return "already done"
    if kind == plan.BROADCAST:
        outcome = await run_broadcast(runtime, int(key), job_id)
    else:
        actions = {
            plan.SURVEY_REMINDER: reminders.survey_reminder,
            plan.CONTEST_REMINDER: reminders.contest_reminder,
            plan.ANNOUNCEMENT: announcement,
        }
        async with runtime.store.transaction() as session:
            if await store.job_ran(session, job_id):
                return "already done"
            outcome = await actions[kind](runtime, session, key, job_id)
            await store.record_job(session, job_id, outcome)
    runtime.wake_sender()
    log.info("job %s: %s", job_id, outcome)
    return outcome
