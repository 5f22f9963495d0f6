"""Scheduled work: reminders before deadlines, the results announcement, broadcasts.

`handlers/broadcasts/plan.py` derives the jobs from content and the store,
`jobs.py` is what APScheduler calls and records in `job_runs` that a job ran; it
dispatches to what a job does: `reminders.py`, `announcement.py`,
`broadcast_job.py`, on the shared `runtime.py`. `service.py` runs APScheduler in
the bot's loop with its jobs in memory, planned again from the store on start and
whenever something changes.
"""
