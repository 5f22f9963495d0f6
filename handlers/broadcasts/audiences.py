"""The audiences a coordinator can send a broadcast to, by key.

Keys: `subscribers`, `email`, `respondents:<survey>`, `applicants`, `winners`,
`volunteers:<survey>`. Each resolves to recipients who subscribed to news.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.services import Services
from handlers.surveys import results
from storage import audiences
from storage.audiences import Recipient


def choices(services: Services) -> list[tuple[str, str, dict[str, str]]]:
    """(key, catalogue key of the label, label values) for every audience on offer."""
    offered: list[tuple[str, str, dict[str, str]]] = [
        ("subscribers", "audience.subscribers", {}),
        ("email", "audience.email", {}),
    ]
    for survey in services.surveys.values():
        title = survey.title.get(services.translator.default_language)
        offered.append((f"respondents:{survey.slug}", "audience.respondents", {"title": title}))
        if survey.leaders is not None:
            offered.append((f"volunteers:{survey.slug}", "audience.volunteers", {"title": title}))
    if services.contest is not None:
        offered.append(("applicants", "audience.applicants", {}))
        offered.append(("winners", "audience.winners", {}))
    return offered


def is_known(services: Services, key: str) -> bool:
    return key in {k for k, _, _ in choices(services)}


async def resolve(session: AsyncSession, services: Services, key: str) -> list[Recipient]:
    kind, _, parameter = key.partition(":")
    contest = services.contest.slug if services.contest else ""
    if kind == "subscribers":
        return await audiences.subscribers(session)
    if kind == "email":
        return await audiences.email_subscribers(session)
    if kind == "respondents":
        return await audiences.respondents(session, parameter)
    if kind == "applicants":
        return await audiences.applicants(session, contest)
    if kind == "winners":
        return await audiences.winners(session, contest)
    if kind == "volunteers":
        survey = services.surveys.get(parameter)
        if survey is None:
            return []
        volunteers = await results.volunteers(session, survey)
        ids = [v.resident_id for v in volunteers if v.resident_id is not None]
        return await audiences.residents_by_id(session, ids)
    raise ValueError(f"unknown audience '{key}'")
