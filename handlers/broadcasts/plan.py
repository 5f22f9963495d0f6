"""What should run when, derived from content and the store. Pure but for one query.

Job ids are stable (`survey-reminder:diagnoza-2021:3d`), so replanning after a
restart or a content change replaces jobs instead of duplicating them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.broadcasts.rules import ScheduleRules
from handlers.contest.model import Contest
from handlers.core.forms import Survey
from storage import schedule as store

SURVEY_REMINDER = "survey_reminder"
CONTEST_REMINDER = "contest_reminder"
ANNOUNCEMENT = "announcement"
BROADCAST = "broadcast"


@dataclass(frozen=True)
class PlannedJob:
    id: str
    kind: str
    key: str
    run_at: datetime


def label(offset: timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    if minutes % (24 * 60) == 0:
        return f"{minutes // (24 * 60)}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


def plan(
    *,
    surveys: dict[str, Survey],
    contest: Contest | None,
    rules: ScheduleRules,
    announcements: list[store.Announcement],
    broadcasts: list[store.Broadcast],
    now: datetime,
) -> list[PlannedJob]:
    """Every job still to run (or missed by less than the grace period), by time."""
    jobs: list[PlannedJob] = []
    for survey in surveys.values():
        if survey.closes is None:
            continue
        for offset in rules.survey_reminders:
            at = survey.closes - offset
            if survey.opens is None or at > survey.opens:
                jobs.append(
                    PlannedJob(
                        f"survey-reminder:{survey.slug}:{label(offset)}",
                        SURVEY_REMINDER,
                        survey.slug,
                        at,
                    )
                )
    if contest is not None:
        for offset in rules.contest_reminders:
            at = contest.closes - offset
            if contest.opens is None or at > contest.opens:
                jobs.append(
                    PlannedJob(
                        f"contest-reminder:{contest.slug}:{label(offset)}",
                        CONTEST_REMINDER,
                        contest.slug,
                        at,
                    )
                )
    for announcement in announcements:
        if announcement.done_at is None:
            jobs.append(
                PlannedJob(
                    f"announcement:{announcement.contest}",
                    ANNOUNCEMENT,
                    announcement.contest,
                    announcement.at,
                )
            )
    for broadcast in broadcasts:
        if broadcast.status in (store.SCHEDULED, store.SENDING):
            # A broadcast that was being sent when the bot stopped resumes at once.
            at = broadcast.scheduled_at or broadcast.created_at
            if broadcast.status == store.SENDING:
                at = min(at, now)
            jobs.append(
                PlannedJob(
                    f"broadcast:{broadcast.id}",
                    BROADCAST,
                    str(broadcast.id),
                    max(at, now - rules.grace_period / 2),
                )
            )
    alive = [j for j in jobs if j.run_at > now - rules.grace_period]
    return sorted(alive, key=lambda j: (j.run_at, j.id))


async def current_plan(
    session: AsyncSession,
    *,
    surveys: dict[str, Survey],
    contest: Contest | None,
    rules: ScheduleRules,
    now: datetime,
) -> list[PlannedJob]:
    """The plan from the store as it is now, without the jobs that already ran."""
    jobs = plan(
        surveys=surveys,
        contest=contest,
        rules=rules,
        announcements=await store.announcements(session),
        broadcasts=await store.broadcasts(session, statuses=(store.SCHEDULED, store.SENDING)),
        now=now,
    )
    return [job for job in jobs if not await store.job_ran(session, job.id)]


def subject(
    job: PlannedJob, *, surveys: dict[str, Survey], contest: Contest | None, language: str
) -> str:
    """What a reminder or an announcement is about, by the title people know it by.

    The survey's or the contest's title; the key itself only for what is no longer
    in content (and for a broadcast, whose key is its number)."""
    if job.kind == SURVEY_REMINDER and job.key in surveys:
        return surveys[job.key].title.get(language)
    if job.kind in (CONTEST_REMINDER, ANNOUNCEMENT) and contest is not None:
        if contest.slug == job.key:
            return contest.name.get(language)
    return job.key


# The outcome recorded for a job a coordinator cancelled: it counts as run, so it never runs.
CANCELLED_OUTCOME = "cancelled"
# Jobs a coordinator may cancel from the plan; the results announcement is moved with /announce.
CANCELLABLE = (SURVEY_REMINDER, CONTEST_REMINDER, BROADCAST)


async def cancel(session: AsyncSession, job: PlannedJob) -> int:
    """Cancel a planned job; for a broadcast, how many queued messages will not be sent."""
    if job.kind not in CANCELLABLE:
        raise ValueError(f"a job of kind '{job.kind}' cannot be cancelled")
    if job.kind == BROADCAST:
        broadcast = await store.get_broadcast(session, int(job.key))
        if broadcast is None or broadcast.status in (store.DONE, store.CANCELLED):
            return 0
        return await store.cancel_broadcast(session, broadcast)
    await store.record_job(session, job.id, CANCELLED_OUTCOME)
    return 0
