"""What the scheduler will run next, with the text residents will read and how many.

The plan is the chat's own (`handlers.broadcasts.plan.current_plan`, as in
/schedule); a reminder's text is made by the very function the reminder job
uses (`scheduler.reminders.reminder_text`), in the page's language.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.broadcasts import audiences, plan
from handlers.broadcasts.plan import PlannedJob, current_plan
from panel.base import PanelHandler
from scheduler.reminders import reminder_text
from storage import audiences as audience_store
from storage import schedule as store

# The label of each kind of planned job.
KINDS = {
    plan.SURVEY_REMINDER: "panel.bc.kind.survey_reminder",
    plan.CONTEST_REMINDER: "panel.bc.kind.contest_reminder",
    plan.ANNOUNCEMENT: "panel.bc.kind.announcement",
    plan.BROADCAST: "panel.bc.kind.broadcast",
}


async def planned_jobs(handler: PanelHandler, session: AsyncSession) -> list[PlannedJob]:
    services = handler.panel.services
    return await current_plan(
        session,
        surveys=services.surveys,
        contest=services.contest,
        rules=services.schedule_rules,
        now=services.clock(),
    )


async def find_job(handler: PanelHandler, session: AsyncSession, job_id: str) -> PlannedJob | None:
    for job in await planned_jobs(handler, session):
        if job.id == job_id:
            return job
    return None


async def _reminder(
    handler: PanelHandler, session: AsyncSession, job: PlannedJob
) -> tuple[str, str, int] | None:
    """(title, text, recipients) of a reminder, or None when its survey or contest is gone."""
    services = handler.panel.services
    language = handler.language
    if job.kind == plan.SURVEY_REMINDER:
        survey = services.surveys.get(job.key)
        if survey is None or survey.closes is None:
            return None
        text = reminder_text(services, language, "reminder.survey", survey.closes, survey.title.get)
        people = await audience_store.unfinished_respondents(session, job.key)
        return survey.title.get(language), text, len(people)
    contest = services.contest
    if contest is None or contest.slug != job.key:
        return None
    text = reminder_text(services, language, "reminder.contest", contest.closes, contest.name.get)
    people = await audience_store.draft_holders(session, job.key)
    return contest.name.get(language), text, len(people)


async def describe(handler: PanelHandler, session: AsyncSession, job: PlannedJob) -> dict[str, Any]:
    """One planned job as the page shows it."""
    services = handler.panel.services
    title, text, count = job.key, "", None
    if job.kind in (plan.SURVEY_REMINDER, plan.CONTEST_REMINDER):
        found = await _reminder(handler, session, job)
        if found is not None:
            title, text, count = found
    elif job.kind == plan.BROADCAST:
        broadcast = await store.get_broadcast(session, int(job.key))
        if broadcast is not None:
            title = handler.t("schedule.kind.broadcast", key=broadcast.id)
            text = broadcast.text
            if broadcast.expanded:
                count = broadcast.total
            else:
                count = len(await audiences.resolve(session, services, broadcast.audience))
    elif job.kind == plan.ANNOUNCEMENT and services.contest is not None:
        title = services.contest.name.get(handler.language)
        text = handler.t("panel.bc.announcement_text")
    return {
        "id": job.id,
        "when": handler.when(job.run_at),
        "kind": handler.t(KINDS[job.kind]),
        "title": title,
        "text": text,
        "count": count,
        # A broadcast is stopped from its own row; a reminder from here.
        "cancellable": job.kind in plan.CANCELLABLE and job.kind != plan.BROADCAST,
        "broadcast": job.key if job.kind == plan.BROADCAST else None,
    }


async def upcoming(handler: PanelHandler, session: AsyncSession) -> list[dict[str, Any]]:
    return [await describe(handler, session, job) for job in await planned_jobs(handler, session)]
