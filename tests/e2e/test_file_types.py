"""In Telegram too, an attachment's type comes from its bytes: an HTML page sent as
`application/pdf` is refused with the list of accepted types, a PNG named `.pdf` is
stored as `.png`."""

from __future__ import annotations

from sqlalchemy import select

from storage import proposals
from tests.e2e.conftest import LiveBot
from tests.e2e.test_proposal import USER, contest_bot, fill, last_text
from tests.handlers.contest.test_file_types import html, png

__all__ = ["contest_bot"]


async def test_telegram_attachment_typed_from_content(contest_bot: LiveBot) -> None:
    api = contest_bot.api
    await fill(contest_bot)
    await contest_bot.say(USER, "Poczęstunek – 500")
    await contest_bot.press(USER, "Gotowe – budżet")
    refused = await last_text(
        contest_bot, lambda: api.push_document(USER, "wniosek.pdf", html(), "application/pdf")
    )
    assert "nie możemy przyjąć" in refused and "PDF, JPG, PNG" in refused
    saved = await last_text(
        contest_bot, lambda: api.push_document(USER, "skan.pdf", png(), "application/pdf"), 2
    )
    assert "Zapisano załącznik skan.png" in saved
    async with contest_bot.service.store.transaction() as session:
        [proposal] = list(await session.scalars(select(proposals.Proposal)))
        [attachment] = await proposals.attachments(session, proposal.id)
    assert (attachment.name, attachment.mime_type) == ("skan.png", "image/png")
    assert (contest_bot.service.settings.data_dir / attachment.path).read_bytes() == png()
