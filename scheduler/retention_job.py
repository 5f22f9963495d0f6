"""The daily retention job: what is past the centre's retention period goes.

Residents inactive for longer than the period are erased as by /forget; the
other categories of `storage.retention` are deleted or emptied (e-mails keep
an empty row so the mailbox is not imported again). `run_retention` is
module-level and takes no arguments, so APScheduler's persistent store keeps
only its name; the running service is installed by `schedule_retention`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from handlers.privacy.retention import erase_inactive
from storage import retention

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler

    from scheduler.runtime import JobRuntime

log = logging.getLogger(__name__)
JOB_ID = "retention:daily"
# After the daily backup (BACKUP_HOUR, 3 by default): a night's copy still has
# what this run removes, should a mistake need undoing.
HOUR = 4

_runtime: JobRuntime | None = None


@dataclass
class Outcome:
    erased_residents: int = 0
    emptied_mails: int = 0
    deleted: dict[str, int] = field(default_factory=dict)


async def apply_retention(runtime: JobRuntime, *, now: datetime | None = None) -> Outcome:
    """Erase, delete and empty everything past its period; what was done."""
    services = runtime.services
    now = now or services.clock()
    period = retention.months(services.centre.retention.months)
    outcome = Outcome()
    while True:
        async with runtime.store.transaction() as session:
            batch = [
                r.id for r in await retention.inactive_residents(session, now=now, period=period)
            ]
        if not batch:
            break
        outcome.erased_residents += await erase_inactive(runtime.store, services, batch)
    async with runtime.store.transaction() as session:
        outcome.deleted = await retention.delete_expired(session, now=now, period=period)
        outcome.emptied_mails, paths = await retention.empty_old_mail(
            session, now=now, period=period
        )
    # Only once the rows are gone for good: a rolled-back run keeps its files.
    for path in paths:
        try:
            (services.data_dir / path).unlink(missing_ok=True)
        except OSError as error:
            log.warning("could not delete %s: %s", path, error)
    return outcome


async def run_retention() -> Outcome | None:
    if _runtime is None:
        log.error("retention job fired before the service was installed")
        return None
    try:
        outcome = await apply_retention(_runtime)
    except Exception:
        log.exception("retention job failed")
        return None
    log.info(
        "retention: %d residents erased, %d e-mails emptied, deleted %s",
        outcome.erased_residents,
        outcome.emptied_mails,
        {k: v for k, v in outcome.deleted.items() if v},
    )
    return outcome


def schedule_retention(scheduler: BaseScheduler, runtime: JobRuntime) -> None:
    """Add the daily retention job (replacing the stored one: same id)."""
    global _runtime
    _runtime = runtime
    scheduler.add_job(
        run_retention,
        "cron",
        hour=HOUR,
        id=JOB_ID,
        name=JOB_ID,
        replace_existing=True,
    )
