"""The coordinators' side of the contest end to end in Telegram (fake Bot API), on SQLite
and PostgreSQL: a status change reaching the applicant in chat and by e-mail (through
the SMTP transport to aiosmtpd), and scoring by two coordinators with a selection."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from handlers.contest.buttons import ScoreMark, ScoreShow
from storage import proposals, scores
from storage.models import OutboxMessage
from tests.conftest import COORDINATOR_ID
from tests.e2e.conftest import LiveBot, wait_until
from tests.handlers.contest_fixture import sample_contest
from tests.handlers.review_fixture import Made, submit_in
from tests.servers.smtp import SmtpServer

SECOND_COORDINATOR = 900_002
APPLICANT = 9101
NOW = datetime(2030, 6, 10, 10, 0, tzinfo=UTC)


@pytest.fixture
def live_bot_settings(smtp: SmtpServer) -> dict[str, object]:
    # E-mail configured: the bot queues the applicant's e-mail only when it can send it.
    return {
        "coordinator_ids": f"{COORDINATOR_ID},{SECOND_COORDINATOR}",
        "smtp_host": smtp.host,
        "smtp_port": smtp.port,
        "smtp_security": "none",
        "mail_from": "Ośrodek Kultury <mediateka@example.pl>",
    }


@pytest.fixture
def review_bot(live_bot: LiveBot) -> LiveBot:
    services = live_bot.service.services
    services.contest = sample_contest()
    services.clock = lambda: NOW
    return live_bot


async def make(bot: LiveBot, **values: object) -> Made:
    contest = bot.service.services.contest
    assert contest is not None
    values.setdefault("amounts", ["6000"])
    values.setdefault("channel", "telegram")
    return await submit_in(bot.service.store, contest, **values)


async def choose(bot: LiveBot, user_id: int, data: str, count: int = 1) -> list[dict]:
    """Press a button by its data (on the latest message offering it)."""
    already = len(bot.api.sent(user_id))
    bot.api.push_callback(user_id, data)
    return await bot.replies(user_id, already, count)


async def score(bot: LiveBot, user_id: int, made: Made, marks: list[int]) -> str:
    await choose(bot, user_id, ScoreShow(made.id, 0).pack())
    last: list[dict] = []
    for index, mark in enumerate(marks):
        last = await choose(bot, user_id, ScoreMark(made.id, index, mark).pack())
    return last[-1]["text"]


async def test_status_change_reaches_the_applicant_in_telegram_and_by_email(
    review_bot: LiveBot, smtp: SmtpServer
) -> None:
    await review_bot.say(APPLICANT, "/start")
    await review_bot.press(APPLICANT, "Tak, zgadzam", count=2)
    made = await make(review_bot, telegram_id=APPLICANT, title="Potańcówka pod lipami")

    shown = await review_bot.say(COORDINATOR_ID, f"/proposals {made.number}", count=2)
    assert "Potańcówka pod lipami" in shown[0]["text"]
    [asked] = await review_bot.press(COORDINATOR_ID, "Poproś o poprawki")
    assert "Do kiedy" in asked["text"]
    [prompt] = await review_bot.say(COORDINATOR_ID, "20.06.2030")
    assert "Prosimy o poprawki." in prompt["text"]
    already = len(review_bot.api.sent(APPLICANT))
    [done] = await review_bot.say(COORDINATOR_ID, "Proszę dopisać, kto poprowadzi tańce.")
    assert "do poprawy" in done["text"] and "kgw@example.pl" in done["text"]

    [told] = await review_bot.replies(APPLICANT, already, 1)
    assert "Prosimy o poprawki." in told["text"]
    assert "Proszę dopisać, kto poprowadzi tańce." in told["text"]
    assert "20 czerwca 2030" in told["text"]
    async with review_bot.service.store.transaction() as session:
        stored = await proposals.get(session, made.id)
    assert stored is not None and stored.status == proposals.CHANGES_REQUESTED

    # The running bot's outbox sender takes the e-mail row to a real SMTP server.
    [received] = await smtp.await_messages(1)

    async def mail_sent() -> bool:
        async with review_bot.service.store.transaction() as session:
            rows = await session.scalars(
                select(OutboxMessage).where(OutboxMessage.channel == "email")
            )
            return [(m.recipient, m.status) for m in rows] == [("kgw@example.pl", "sent")]

    await wait_until(mail_sent)
    assert received.rcpt_tos == ["kgw@example.pl"]
    assert received.subject == "Zgłoszenie KP-TEST-001: do poprawy"
    assert "Proszę dopisać, kto poprowadzi tańce." in received.text
    assert "Prosimy o poprawki." in received.text


async def test_scoring_by_two_coordinators_and_a_selection_in_telegram(
    review_bot: LiveBot,
) -> None:
    first = await make(review_bot, title="Potańcówka", amounts=["10000"])
    second = await make(review_bot, title="Kino", amounts=["9000"], minutes=1)
    third = await make(review_bot, title="Warsztaty", amounts=["9000"], minutes=2)
    fourth = await make(review_bot, title="Festyn", amounts=["2500"], minutes=3)
    for coordinator, marks in (
        (COORDINATOR_ID, {first: 5, second: 4, third: 3, fourth: 2}),
        (SECOND_COORDINATOR, {first: 4, second: 4, third: 3, fourth: 3}),
    ):
        for made, mark in marks.items():
            text = await score(review_bot, coordinator, made, [mark, mark])
            assert f"ocena wniosku {made.number} jest zapisana" in text

    [ranking] = await review_bot.say(SECOND_COORDINATOR, "/ranking")
    lines = [line for line in ranking["text"].splitlines() if "KP-TEST" in line]
    assert lines[0].startswith(
        "1. KP-TEST-001 „Potańcówka” – 4,50 (oceniających: 2, rozrzut: 1,00)"
    )
    assert lines[3].startswith("4. KP-TEST-004 „Festyn” – 2,50")

    [proposed] = await review_bot.say(COORDINATOR_ID, "/select")
    # 10 000 + 9 000 + 9 000 leaves 2 000: the festival (2 500) does not fit.
    assert "Pominięte, bo nie mieszczą się już w budżecie: KP-TEST-004" in proposed["text"]
    [adjusted] = await review_bot.press(COORDINATOR_ID, f"✅ {third.number}")
    assert f"▫️ 3. {third.number}" in adjusted["text"]
    [adjusted] = await review_bot.press(COORDINATOR_ID, f"▫️ {fourth.number}")
    assert "Wybrane: 3, na kwotę 21\u00a0500\u00a0zł" in adjusted["text"]
    [done] = await review_bot.press(COORDINATOR_ID, "Zatwierdź wybór")
    assert "dofinansowane wnioski: 3" in done["text"]

    async with review_bot.service.store.transaction() as session:
        outcome = await scores.outcome(session, "test-2030")
    assert [(o.proposal_id, o.rank, o.selected) for o in outcome] == [
        (first.id, 1, True),
        (second.id, 2, True),
        (third.id, 3, False),
        (fourth.id, 4, True),
    ]
    assert {o.decided_by for o in outcome} == {COORDINATOR_ID}
