"""When an entry made on a resident's behalf is finished: their confirmation.

With an e-mail address (and e-mail configured) the confirmation is queued in the
outbox for the person; otherwise the coordinator gets a printable receipt (a
small HTML file) to hand over or post. Both say the entry's number, the day,
what was entered, by which channel, the consent taken and the centre's contact.
For an anonymous survey the entry loses its link to the answers here.
"""

from __future__ import annotations

import html

from babel.dates import format_date

from handlers.core.context import Context
from handlers.core.events import OutgoingFile, Reply
from handlers.core.mail_out import queue_email
from handlers.core.routing import Router
from storage import on_behalf as store
from storage import proposals
from storage.models import EntryOnBehalf

router = Router("onbehalf.receipt")


@router.finish_hook
async def on_finished(ctx: Context, what: str, record_id: int) -> list[Reply]:
    if what == store.SURVEY:
        entry = await store.open_for_response(ctx.session, record_id)
    else:
        entry = await store.for_proposal(ctx.session, record_id)
        entry = entry if entry is not None and entry.status == store.OPEN else None
    if entry is None:
        return []
    survey = ctx.services.surveys.get(entry.subject) if what == store.SURVEY else None
    lines = await receipt_lines(ctx, entry)
    await store.finish(ctx.session, entry, anonymous=survey is not None and survey.anonymous)
    if entry.email and ctx.services.channels.email_out:
        await queue_email(
            ctx.session,
            to=entry.email,
            resident_id=entry.resident_id,
            subject=ctx.t("onbehalf.email_subject", number=entry.id),
            text="\n\n".join(lines),
            key=f"onbehalf:{entry.id}",
        )
        return [ctx.reply("onbehalf.email_queued", number=entry.id, email=entry.email)]
    said = [ctx.reply("onbehalf.email_not_configured")] if entry.email else []
    name = ctx.t("onbehalf.receipt_file", number=entry.id)
    file = OutgoingFile(name, "text/html", receipt_html(ctx, lines).encode())
    return [*said, Reply(ctx.t("onbehalf.receipt_caption", number=entry.id), file=file)]


async def receipt_lines(ctx: Context, entry: EntryOnBehalf) -> list[str]:
    """The receipt's paragraphs, as the e-mail's text and the printable page show them."""
    centre = ctx.services.centre
    day = format_date(entry.entered_on, "d MMMM y", locale=ctx.language)
    lines = [
        ctx.t("onbehalf.receipt_title", number=entry.id),
        ctx.t("onbehalf.receipt_intro", centre=centre.name, date=day),
        await _what(ctx, entry),
        ctx.t("onbehalf.receipt_channel", channel=ctx.t(f"onbehalf.via.{entry.channel}")),
        ctx.t("onbehalf.receipt_consent", note=entry.consent_note),
    ]
    if entry.name:
        lines.insert(2, ctx.t("onbehalf.receipt_person", name=entry.name))
    contact = [centre.name, centre.address, centre.email]
    if centre.phone:
        contact.append(centre.phone)
    lines.append(ctx.t("onbehalf.receipt_contact", contact=", ".join(contact)))
    return lines


async def _what(ctx: Context, entry: EntryOnBehalf) -> str:
    if entry.kind == store.SURVEY:
        survey = ctx.services.surveys.get(entry.subject)
        title = survey.title.get(ctx.language) if survey else entry.subject
        return ctx.t("onbehalf.receipt_survey", title=title)
    proposal = await proposals.get(ctx.session, entry.proposal_id or 0)
    contest = ctx.services.contest
    title = ""
    if proposal is not None and contest is not None:
        title = str(proposal.answers.get(contest.title_field, ""))
    number = proposal.number if proposal is not None else ""
    return ctx.t("onbehalf.receipt_proposal", number=number, title=title)


def receipt_html(ctx: Context, lines: list[str]) -> str:
    """A page that prints on one sheet: the title as a heading, then the paragraphs."""
    title, *rest = (html.escape(line) for line in lines)
    body = "\n".join(f"<p>{line}</p>" for line in rest)
    return (
        f'<!DOCTYPE html>\n<html lang="{ctx.language}">\n<head><meta charset="utf-8">'
        f"<title>{title}</title>\n"
        "<style>body{font-family:sans-serif;font-size:14pt;max-width:40em;margin:2em auto}"
        "</style></head>\n"
        f"<body>\n<h1>{title}</h1>\n{body}\n</body>\n</html>\n"
    )


@router.forget_hook
async def _forget(ctx: Context) -> None:
    assert ctx.resident is not None
    await store.forget_resident(ctx.session, ctx.resident.id)
