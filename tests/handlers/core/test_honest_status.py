"""The bot says "sent" only after delivery, and says which channels are not configured.

Each case runs with and without SMTP/IMAP in the settings; the texts are looked up
in the catalogue, so the tests check what is said, not its wording."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bot.app import Service
from bot.cli import app
from handlers.core.mail_out import queue_email
from handlers.mailbox.buttons import MailReply
from storage import mail as mail_store
from storage.models import OutboxMessage
from tests.conftest import CONTENT, COORDINATOR_ID, make_settings
from tests.handlers.contest.test_proposal import applicant, fill_form
from tests.handlers.contest_fixture import sample_contest
from tests.handlers.review_fixture import Made, submit_in
from tests.harness import ChatHarness, Person, said, texts, with_mail
from tests.mail import corpus
from tests.mail.conftest import with_recorders
from tests.mail.test_mailbox import receive

Harness = Callable[..., Awaitable[ChatHarness]]
NOW = datetime(2030, 5, 20, 10, 0, tzinfo=UTC)
SMTP_AND_IMAP = [pytest.param(True, id="configured"), pytest.param(False, id="not-configured")]


@pytest.fixture
async def make_harness(database_url: str, tmp_path: Path) -> AsyncIterator[Harness]:
    """A harness whose settings have SMTP and IMAP or not; on SQLite and PostgreSQL."""
    services: list[Service] = []

    async def build(*, smtp: bool, imap: bool) -> ChatHarness:
        settings = with_mail(make_settings(database_url, tmp_path), smtp=smtp, imap=imap)
        service = Service(settings)
        services.append(service)
        service.services.contest = sample_contest()
        service.services.clock = lambda: NOW
        return ChatHarness(service)

    yield build
    for service in services:
        await service.close()


async def email_rows(harness: ChatHarness) -> list[OutboxMessage]:
    async with harness.service.store.transaction() as session:
        query = select(OutboxMessage).where(OutboxMessage.channel == "email")
        return list(await session.scalars(query))


def panel_state(configured: bool) -> str:
    return said("admin.channel_on" if configured else "admin.channel_off")


# --- /admin -----------------------------------------------------------------------


@pytest.mark.parametrize("configured", SMTP_AND_IMAP)
async def test_admin_shows_which_channels_are_configured(
    make_harness: Harness, configured: bool
) -> None:
    harness = await make_harness(smtp=configured, imap=configured)
    panel = texts(await harness.person(COORDINATOR_ID, coordinator=True).send("/admin"))
    state = panel_state(configured)
    assert said("admin.channels", telegram=panel_state(False), email_out=state, mailbox=state) in (
        panel
    )
    hints = said("admin.email_off_hint") in panel, said("admin.mailbox_off_hint") in panel
    assert hints == (not configured, not configured)


async def test_admin_counts_emails_that_cannot_go_out_without_smtp(
    make_harness: Harness,
) -> None:
    harness = await make_harness(smtp=False, imap=False)
    async with harness.service.store.transaction() as session:
        for n in range(2):
            await queue_email(session, to="kgw@example.pl", subject="s", text="t", key=f"k{n}")
    panel = texts(await harness.person(COORDINATOR_ID, coordinator=True).send("/admin"))
    assert said("admin.email_stuck", count=2) in panel
    # Delivered by nobody: they are still counted as queued, not as sent.
    counts = {"residents": 0, "subscribed": 0, "blocked": 0, "forgotten": 0}
    assert said("admin.panel", **counts, pending=2, failed=0) in panel


# --- /inbox -----------------------------------------------------------------------


@pytest.mark.parametrize("configured", SMTP_AND_IMAP)
async def test_inbox_says_when_the_mailbox_is_not_configured(
    make_harness: Harness, configured: bool
) -> None:
    harness = await make_harness(smtp=True, imap=configured)
    shown = texts(await harness.person(COORDINATOR_ID, coordinator=True).send("/inbox"))
    if configured:
        assert shown == said("mail.inbox_empty")
    else:
        assert shown == said("mail.inbox_not_configured")
        assert "IMAP_HOST" in shown


async def test_inbox_without_imap_still_lists_threads_stored_earlier(
    make_harness: Harness,
) -> None:
    harness = await make_harness(smtp=True, imap=False)
    await receive(harness, corpus.iso_8859_2_qp().raw)
    replies = await harness.person(COORDINATOR_ID, coordinator=True).send("/inbox")
    assert replies[0].text == said("mail.inbox_not_configured")
    assert replies[-1].text.startswith(said("mail.inbox_title", count=1))
    assert replies[-1].buttons


# --- the contest: the resident's confirmation, the coordinator's decision --------


async def submitted(harness: ChatHarness) -> str:
    ewa = await applicant(harness, 601)
    await fill_form(ewa)
    await ewa.send("Nagłośnienie: 500")
    await ewa.press("Gotowe – budżet")
    await ewa.press("Bez załączników")
    return texts(await ewa.press("Wyślij zgłoszenie"))


@pytest.mark.parametrize("configured", SMTP_AND_IMAP)
async def test_proposal_confirmation_is_promised_only_when_it_can_be_sent(
    make_harness: Harness, configured: bool
) -> None:
    harness = await make_harness(smtp=configured, imap=False)
    done = await submitted(harness)
    assert said("proposal.submitted", number="KP-TEST-001", title="Potańcówka pod lipami") in done
    queued = said("proposal.email_queued", email="kgw@example.pl")
    refused = said("proposal.email_not_configured")
    assert (queued in done, refused in done) == (configured, not configured)
    # No e-mail is left in the outbox that no transport would ever take.
    assert len(await email_rows(harness)) == (1 if configured else 0)


async def decided(harness: ChatHarness) -> tuple[Made, str]:
    made = await submit_in(harness.service.store, sample_contest(), title="Kino", amounts=["100"])
    marta = harness.person(COORDINATOR_ID, coordinator=True)
    await marta.send(f"/proposals {made.number}")
    await marta.press("Przekaż do oceny")
    return made, texts(await marta.send("Dziękujemy, wniosek jest kompletny."))


@pytest.mark.parametrize("configured", SMTP_AND_IMAP)
async def test_review_decision_says_whether_the_email_is_queued(
    make_harness: Harness, configured: bool
) -> None:
    harness = await make_harness(smtp=configured, imap=False)
    _made, done = await decided(harness)
    queued = said("review.delivered_email", email="kgw@example.pl")
    refused = said("review.email_not_configured", email="kgw@example.pl")
    assert (queued in done, refused in done) == (configured, not configured)
    # Without a chat and without SMTP nothing reaches the applicant: say that too.
    assert (said("review.not_delivered") in done) == (not configured)
    assert len(await email_rows(harness)) == (1 if configured else 0)


# --- the reply to an e-mail, and its state in `lokalnie mail` ----------------------


async def reply_to_second_mail(harness: ChatHarness) -> tuple[Person, list[str]]:
    _first, second, _third = corpus.conversation()
    [message_id] = await receive(harness, second)
    anna = harness.person(COORDINATOR_ID, coordinator=True)
    shown = [texts(await anna.choose(MailReply(message_id).pack()))]
    return anna, shown


async def test_reply_by_email_is_refused_without_smtp(make_harness: Harness) -> None:
    harness = await make_harness(smtp=False, imap=True)
    anna, [prompt] = await reply_to_second_mail(harness)
    assert prompt == said("mail.reply_no_smtp") and "SMTP_HOST" in prompt
    # No reply flow was started: the next text is not taken as an e-mail.
    assert said("mail.reply_no_smtp") not in texts(await anna.send("Sala jest wolna."))
    assert await email_rows(harness) == []


async def cli_state(env: dict[str, str], message_id: int) -> str:
    # The CLI runs its own event loop: in a thread, beside the test's.
    invoke = CliRunner().invoke
    shown = await asyncio.to_thread(invoke, app, ["mail", "show", str(message_id)], env=env)
    assert shown.exit_code == 0, shown.output
    return shown.output


async def test_outgoing_email_is_queued_until_delivered_then_sent(
    make_harness: Harness, database_url: str, tmp_path: Path
) -> None:
    harness = await make_harness(smtp=True, imap=True)
    anna, _prompt = await reply_to_second_mail(harness)
    await anna.send("Sala jest wolna w sobotę.")
    [done] = await anna.press("Wyślij")
    assert done.text == said("mail.reply_queued", recipient="maria@example.pl")
    async with harness.service.store.transaction() as session:
        [(outgoing, _thread)] = [
            row
            for row in await mail_store.list_messages(session, limit=10, unhandled=False)
            if row[0].direction == "out"
        ]
    env = {
        "DATABASE_URL": database_url,
        "CONTENT_DIR": str(CONTENT),
        "DATA_DIR": str(tmp_path / "data"),
        "TELEGRAM_BOT_TOKEN": "",
    }
    assert f"({said('mail.state_queued')})" in await cli_state(env, outgoing.id)
    # The SMTP transport comes up only now: until then the e-mail waits in the outbox.
    recorders = with_recorders(harness, ["email"])
    await harness.sender.drain()
    assert len(recorders["email"].delivered) == 1
    assert f"({said('mail.state_sent')})" in await cli_state(env, outgoing.id)


@pytest.mark.parametrize("smtp", SMTP_AND_IMAP)
async def test_email_proof_is_offered_only_when_a_code_can_be_sent(
    make_harness: Harness, smtp: bool
) -> None:
    harness = await make_harness(smtp=smtp, imap=False)
    ewa = await applicant(harness, 7301)
    answer = texts(await ewa.send("/email ewa@example.pl"))
    rows = await email_rows(harness)
    if smtp:
        assert said("email.not_configured") not in answer
        assert [row.recipient for row in rows] == ["ewa@example.pl"]
    else:
        # No code is queued that could never arrive, and the resident is told why.
        assert said("email.not_configured") in answer
        assert rows == []
