"""Notices to the coordinators about an applicant's proposal: a new one, a corrected
one, one withdrawn or put back, files changed after submitting.

Each goes to every coordinator's chat in the language they chose (else the centre's
default), queued in the transaction of the change it announces.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from handlers.contest.model import Contest
from handlers.core.context import Context
from handlers.core.events import Reply
from handlers.core.notify import coordinator_languages, tell
from storage.proposals import Proposal

# Telegram's limit for one message is 4096 characters; a long list of changes is cut.
NOTICE_LIMIT = 4000


async def tell_coordinators(
    ctx: Context,
    contest: Contest,
    proposal: Proposal,
    key: str,
    *,
    occasion: str,
    details: Callable[[str], Sequence[str]] | None = None,
    **values: str,
) -> None:
    """Queue the catalogue text `key` (with the proposal's number and title) for every
    coordinator, followed by `details(language)` when given; `occasion` tells this
    notice from the proposal's other ones."""
    translator = ctx.services.translator
    title = proposal.answers.get(contest.title_field, "")
    languages = await coordinator_languages(ctx.session, ctx.services)
    texts: dict[str, str] = {}  # one text per language, however many read it
    for chat_id in sorted(ctx.services.coordinator_ids):
        language = languages[chat_id]
        if language not in texts:
            texts[language] = _notice(
                translator.text(language, key, number=proposal.number, title=title, **values),
                details(language) if details is not None else (),
            )
        await tell(
            ctx,
            chat_id=str(chat_id),
            reply=Reply(texts[language]),
            key=f"proposal-notice:{proposal.id}:{occasion}:{chat_id}",
        )


def _notice(heading: str, details: Sequence[str]) -> str:
    if not details:
        return heading
    text = "\n".join([heading, "", *details])
    return text if len(text) <= NOTICE_LIMIT else text[: NOTICE_LIMIT - 1] + "…"
