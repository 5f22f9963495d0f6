"""Reminders before a deadline: an unfinished survey, a proposal still a draft."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from handlers.core.services import Services
from scheduler.runtime import JobRuntime, send, translated, when
from storage.audiences import Recipient, draft_holders, unfinished_respondents


def reminder_text(
    services: Services, language: str, key: str, deadline: datetime, name: Callable[[str], str]
) -> str:
    """A reminder as a resident reads it, in their language."""
    return translated(
        services, language, key, name=name(language), when=when(services, deadline, language)
    )


async def _remind(
    runtime: JobRuntime,
    session: Any,
    job_id: str,
    people: list[Recipient],
    key: str,
    deadline: datetime,
    name: Callable[[str], str],
) -> str:
    """One reminder per person, in their language, keyed by the job and the person."""
    services = runtime.services
    for person in people:
        text = reminder_text(services, person.language, key, deadline, name)
        await send(session, services, person, text, f"{job_id}:{person.resident_id}")
    return f"reminded {len(people)}"


async def survey_reminder(runtime: JobRuntime, session: Any, slug: str, job_id: str) -> str:
    survey = runtime.services.surveys.get(slug)
    if survey is None or survey.closes is None:
        return "survey gone"
    people = await unfinished_respondents(session, slug)
    return await _remind(
        runtime, session, job_id, people, "reminder.survey", survey.closes, survey.title.get
    )


async def contest_reminder(runtime: JobRuntime, session: Any, slug: str, job_id: str) -> str:
    contest = runtime.services.contest
    if contest is None or contest.slug != slug:
        return "contest gone"
    people = await draft_holders(session, slug)
    return await _remind(
        runtime, session, job_id, people, "reminder.contest", contest.closes, contest.name.get
    )
