"""What a survey leads to: the survey entry of the main menu, and the invitation
to /propose for a resident who said they would lead or join an initiative."""

from __future__ import annotations

from typing import Any

from handlers.core.context import Context
from handlers.core.events import Reply
from handlers.core.forms import Survey
from handlers.core.menu import MenuPick
from handlers.core.routing import Router
from storage import survey_privacy
from storage import surveys as store

router = Router("surveys.next_steps")
PROPOSE = "propose"


@router.menu_item("survey", "menu.survey")
async def _survey_now(ctx: Context) -> bool:
    """An open survey this resident can still take (or finish)."""
    # Imported here: the conversation module calls `closing` below.
    from handlers.surveys.conversation import open_surveys

    assert ctx.resident is not None
    for survey in open_surveys(ctx):
        if survey.responses == "many":
            return True
        who = {"survey": survey.slug, "resident_id": ctx.resident.id}
        if await store.unfinished_response(ctx.session, **who) is not None:
            return True
        taken = await store.finished_count(ctx.session, **who)
        taken += await survey_privacy.participations(ctx.session, **who)
        if not taken:
            return True
    return False


def _given(value: Any) -> set[str]:
    if isinstance(value, dict) and "choice" in value:
        return {str(value["choice"])}
    if isinstance(value, dict) and "choices" in value:
        return {str(c) for c in value["choices"]}
    return {str(value)} if value is not None else set()


def willing_leader(survey: Survey, answers: dict[str, Any]) -> bool:
    """Whether the answers say so, as the survey's `leaders` section defines it."""
    leaders = survey.leaders
    if leaders is None:
        return False
    return bool(_given(answers.get(leaders.interest)) & set(leaders.values))


async def closing(ctx: Context, survey: Survey, answers: dict[str, Any]) -> Reply:
    """The survey's thanks; for a willing leader (by the finished response's `answers`),
    with the invitation to propose an idea while a call for proposals is open (one
    message, with its button)."""
    outro = survey.outro.get(ctx.language)
    item = ctx.routes.menu_items.get(PROPOSE)
    if item is None or not willing_leader(survey, answers) or not await item.available(ctx):
        return Reply(outro)
    invitation = ctx.t("survey.leader_invitation")
    button = ctx.button("menu.propose", MenuPick(PROPOSE))
    return Reply(f"{outro}\n\n{invitation}", [[button]])
