"""A proposal end to end in Telegram: form, budget over the cap corrected, a PDF, an edit,
submit, withdraw, and a submission after the deadline refused."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from storage import proposals
from tests.e2e.conftest import LiveBot
from tests.handlers.contest_fixture import CLOSES, sample_contest

PDF = b"%PDF-1.4 programme of the dance evening"
USER = 9001


@pytest.fixture
def contest_bot(live_bot: LiveBot) -> LiveBot:
    services = live_bot.service.services
    services.contest = sample_contest()
    services.clock = lambda: datetime(2030, 5, 20, 10, 0, tzinfo=UTC)
    return live_bot


async def last_text(bot: LiveBot, push, count: int = 1) -> str:  # noqa: ANN001
    already = len(bot.api.sent(USER))
    push()
    replies = await bot.replies(USER, already, count)
    return "\n".join(m["text"] or "" for m in replies)


async def fill(bot: LiveBot) -> None:
    await bot.say(USER, "/start")
    await bot.press(USER, "Tak, zgadzam", count=2)
    await bot.say(USER, "/propose", count=2)
    await bot.press(USER, "Grupa nieformalna")
    for answer in (
        "Koło Gospodyń Wiejskich",
        "kgw@example.pl",
        "600100200",
        "Potańcówka pod lipami",
        "Wieczór tańców ludowych",
        "120",
    ):
        await bot.say(USER, answer)


async def test_proposal_in_telegram_from_form_to_withdrawal(contest_bot: LiveBot) -> None:
    api = contest_bot.api
    await fill(contest_bot)
    await contest_bot.say(USER, "Nagłośnienie – 7000")
    await contest_bot.say(USER, "Poczęstunek – 4000")
    [over] = await contest_bot.press(USER, "Gotowe – budżet")
    assert "za dużo" in over["text"]
    await contest_bot.press(USER, "Usuń ostatnią")
    await contest_bot.say(USER, "Poczęstunek – 2500")
    await contest_bot.press(USER, "Gotowe – budżet")
    saved = await last_text(
        contest_bot, lambda: api.push_document(USER, "program.pdf", PDF, "application/pdf"), 2
    )
    assert "Zapisano załącznik program.pdf" in saved
    [summary] = await contest_bot.press(USER, "Gotowe – dalej")
    assert "program.pdf" in summary["text"] and "9\u00a0500\u00a0zł" in summary["text"]
    await contest_bot.press(USER, "Popraw pole")
    await contest_bot.press(USER, "Tytuł inicjatywy")
    [summary] = await contest_bot.say(USER, "Potańcówka pod starymi lipami")
    assert "Potańcówka pod starymi lipami" in summary["text"]
    done = await contest_bot.press(USER, "Wyślij zgłoszenie", count=3)
    assert "KP-TEST-001" in done[0]["text"]
    async with contest_bot.service.store.transaction() as session:
        [proposal] = list(await session.scalars(select(proposals.Proposal)))
        [attachment] = await proposals.attachments(session, proposal.id)
    assert proposal.status == "submitted" and attachment.size == len(PDF)
    stored = contest_bot.service.settings.data_dir / attachment.path
    assert stored.read_bytes() == PDF

    [mine] = await contest_bot.say(USER, "/myproposals")
    assert "KP-TEST-001" in mine["text"] and "złożone" in mine["text"]
    await contest_bot.press(USER, "Wycofaj")
    [withdrawn] = await contest_bot.press(USER, "Tak, wycofuję")
    assert "wycofane" in withdrawn["text"]


async def test_proposal_in_telegram_after_deadline_is_refused(contest_bot: LiveBot) -> None:
    await fill(contest_bot)
    await contest_bot.say(USER, "Scena – 2000")
    contest_bot.service.services.clock = lambda: CLOSES
    [refused] = await contest_bot.press(USER, "Gotowe – budżet")
    assert "zakończył się" in refused["text"]
    [again] = await contest_bot.say(USER, "/propose")
    assert "Nowych zgłoszeń nie przyjmujemy" in again["text"]
    await asyncio.sleep(0)
    async with contest_bot.service.store.transaction() as session:
        [draft] = list(await session.scalars(select(proposals.Proposal)))
    assert draft.status == "draft" and draft.number is None
