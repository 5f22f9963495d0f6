"""Scheduled work: reminders before deadlines, the results announcement, broadcasts.

`plan.py` derives the jobs from content and the store (pure), `jobs.py` holds
what a job does (module-level coroutines, so APScheduler can store them),
`service.py` runs APScheduler in the bot's loop with a job store in the same
database.
"""
