"""Scheduled work: reminders before deadlines, the results announcement, broadcasts.

`handlers/broadcasts/plan.py` derives the jobs from content and the store,
`jobs.py` holds what a job does and records in `job_runs` that it ran,
`service.py` runs APScheduler in the bot's loop with its jobs in memory, planned
again from the store on start and whenever something changes.
"""
