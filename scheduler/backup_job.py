"""The daily backup, when BACKUP_DIR is set: a copy of the store, the oldest pruned.

`run_daily_backup` is module-level and takes no arguments, so APScheduler's
persistent job store keeps only its name: the settings it needs (with the database
URL, which may hold a password) are installed in this process, never stored. The
job id has no prefix of the planned jobs, so replanning leaves it alone.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from storage import backup

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler

    from bot.config import Settings

log = logging.getLogger(__name__)
JOB_ID = "backup:daily"

_settings: Settings | None = None


async def run_daily_backup() -> Path | None:
    """One dated backup in BACKUP_DIR, keeping BACKUP_KEEP; None when none was made."""
    if _settings is None or _settings.backup_dir is None:
        log.error("daily backup fired without BACKUP_DIR in this process")
        return None
    database_url, keep = _settings.database_url, _settings.backup_keep
    folder = _settings.backup_dir
    out = folder / backup.dated_name(database_url, datetime.now())
    try:
        # The copy blocks (sqlite3, pg_dump): off the bot's event loop.
        await asyncio.to_thread(backup.backup, database_url, out)
    except (backup.BackupError, OSError) as error:
        log.error("daily backup failed: %s", error)
        return None
    removed = backup.prune(folder, keep, backup.locate(database_url).suffix())
    log.info("daily backup written to %s (%d old removed)", out, len(removed))
    return out


def schedule_daily_backup(scheduler: BaseScheduler, settings: Settings) -> None:
    """Add the daily backup job when BACKUP_DIR is set, remove it when not."""
    global _settings
    _settings = settings
    if settings.backup_dir is None:
        if scheduler.get_job(JOB_ID) is not None:
            scheduler.remove_job(JOB_ID)
        return
    scheduler.add_job(
        run_daily_backup,
        "cron",
        hour=settings.backup_hour,
        id=JOB_ID,
        name=JOB_ID,
        replace_existing=True,
    )
