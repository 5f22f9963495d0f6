"""Scheduled work: reminders before deadlines, the results announcement, broadcasts.

`handlers/broadcasts/plan.py` derives the jobs from content and the store (pure),
`jobs.py` is what APScheduler calls (module-level coroutines, so it can store
them) and dispatches to what a job does: `reminders.py`, `announcement.py`,
`broadcast_job.py`, on the shared `runtime.py`;
`service.py` runs APScheduler in the bot's loop with a job store in the same
database.
"""
