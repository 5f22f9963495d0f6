"""/onbehalf: a coordinator enters a paper questionnaire or a phone proposal for a
resident without a smartphone, on each store, through the terminal channel."""

from __future__ import annotations

import html
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app import Service
from bot.mail.smtp import SmtpTransport
from handlers.core.services import Channels
from handlers.onbehalf.person import PersonPress
from handlers.onbehalf.steps import OnBehalfPress
from storage import on_behalf, surveys
from storage.models import (
    EntryOnBehalf,
    OutboxMessage,
    Proposal,
    Resident,
    SurveyParticipation,
    SurveyResponse,
)
from tests.conftest import COORDINATOR_ID, make_settings
from tests.handlers.contest_fixture import sample_contest
from tests.handlers.survey_fixture import sample_survey
from tests.handlers.surveys.answering import answer_all
from tests.harness import ChatHarness, Person, said, texts
from tests.mail.conftest import mail_settings
from tests.servers.smtp import SmtpServer

NOW = datetime(2030, 5, 20, 10, 0, tzinfo=UTC)
SURVEY_BUTTON = said("onbehalf.what_survey", title="Ankieta próbna")
PROPOSAL_BUTTON = said("onbehalf.what_proposal", name="Konkurs próbny")
OUTRO = "Dziękujemy za udział"
TYPED = {"Telefon": "600 111 222", "E-mail": "kontakt@example.pl", "pomysł": "Warsztaty"}
# What a refused or cancelled entry must not leave behind.
STORED = ("residents", "entries_on_behalf", "survey_responses", "proposals", "conversations")


def _ready(service: Service, *, anonymous: bool = False) -> ChatHarness:
    service.services.surveys = {"probna": sample_survey(anonymous=anonymous)}
    service.services.contest = sample_contest()
    service.services.clock = lambda: NOW
    return ChatHarness(service)


@pytest.fixture
async def harness(database_url: str, tmp_path: Path) -> AsyncIterator[ChatHarness]:
    service = Service(make_settings(database_url, tmp_path))
    try:
        yield _ready(service)
    finally:
        await service.close()


def coordinator_of(harness: ChatHarness) -> Person:
    return harness.person(COORDINATOR_ID, coordinator=True, name="Koordynatorka")


async def begin_entry(
    person: Person, what: str, channel: str, consent: str, name: str | None, email: str | None
) -> list:
    intro = await person.send("/onbehalf")
    assert said("onbehalf.intro") in texts(intro)
    await person.press(what)
    await person.press(said(f"onbehalf.channel.{channel}"))
    await person.press(said(f"onbehalf.consent.{consent}"))
    await (person.send(name) if name else person.press(said("survey.skip")))
    return await (person.send(email) if email else person.press(said("survey.skip")))


async def stored_counts(harness: ChatHarness) -> dict[str, int]:
    counts = await harness.row_counts()
    return {table: counts[table] for table in STORED}


def channel_line(paper: int = 0, phone: int = 0, in_person: int = 0) -> str:
    counts = {"paper": paper, "phone": phone, "in_person": in_person}
    parts = [
        said("onbehalf.count_part", channel=said(f"onbehalf.via.{c}"), count=n)
        for c, n in counts.items()
    ]
    return said("onbehalf.counts", counts=", ".join(parts))


async def test_paper_questionnaire_is_stored_for_the_person_with_a_receipt_and_counted(
    harness: ChatHarness,
) -> None:
    coordinator = coordinator_of(harness)
    started = await begin_entry(coordinator, SURVEY_BUTTON, "paper", "signed", "Helena Nowak", None)
    assert said(
        "onbehalf.started", number=1, title="Ankieta próbna", channel=said("onbehalf.via.paper")
    ) in texts(started)
    finished = await answer_all(coordinator, until=OUTRO, typed=TYPED)
    [receipt] = [r for r in finished if r.file is not None]
    assert receipt.text == said("onbehalf.receipt_caption", number=1)
    assert receipt.file is not None and receipt.file.name == "potwierdzenie-1.html"
    page = receipt.file.content.decode()
    for piece in ("Helena Nowak", "Ankieta próbna", "mediateka.kaliszpom@wp.pl", "20 maja 2030"):
        assert piece in page
    assert said("onbehalf.via.paper") in page and "podpisany formularz zgody" in page

    async with harness.service.store.transaction() as session:
        [response] = list(await session.scalars(select(SurveyResponse)))
        [entry] = list(await session.scalars(select(EntryOnBehalf)))
        person = await session.get(Resident, entry.resident_id)
        coordinator_row = await session.scalar(
            select(Resident).where(Resident.telegram_id == COORDINATOR_ID)
        )
        on_paper = await surveys.all_responses(session, "probna", channels=["paper"])
        by_phone = await surveys.all_responses(session, "probna", channels=["phone"])
        per_channel = await on_behalf.survey_channels(session, "probna")
    assert person is not None and coordinator_row is not None
    # The answers are the person's, not the coordinator's.
    assert response.resident_id == person.id != coordinator_row.id
    assert (response.status, response.channel) == ("finished", "paper")
    assert (person.telegram_id, person.name, person.has_consent) == (None, "Helena Nowak", True)
    assert (entry.channel, entry.consent, entry.entered_by) == ("paper", "signed", COORDINATOR_ID)
    assert (entry.status, entry.response_id, entry.email) == ("done", response.id, None)
    assert [r.id for r in on_paper] == [response.id] and by_phone == []
    assert per_channel == {"paper": 1, "phone": 0, "in_person": 0}

    shown = await coordinator.send("/results probna")
    assert channel_line(paper=1) in texts(shown)
    [report] = [r.file for r in shown if r.file is not None]
    assert channel_line(paper=1) in html.unescape(report.content.decode())
    _, csv = await coordinator.send("/export probna")
    assert csv.file is not None and said("onbehalf.via.paper") in csv.file.content.decode()


async def test_anonymous_survey_entry_keeps_no_link_between_the_person_and_answers(
    database_url: str, tmp_path: Path
) -> None:
    service = Service(make_settings(database_url, tmp_path))
    harness = _ready(service, anonymous=True)
    try:
        coordinator = coordinator_of(harness)
        await begin_entry(coordinator, SURVEY_BUTTON, "in_person", "oral", "Jan Nowak", None)
        await answer_all(coordinator, until=OUTRO, typed=TYPED)
        async with service.store.transaction() as session:
            [response] = list(await session.scalars(select(SurveyResponse)))
            [entry] = list(await session.scalars(select(EntryOnBehalf)))
            [taken] = list(await session.scalars(select(SurveyParticipation)))
    finally:
        await service.close()
    assert response.resident_id is None and response.channel == "in_person"
    assert entry.response_id is None and entry.status == "done"
    assert taken.resident_id == entry.resident_id


async def test_phone_proposal_confirmation_reaches_the_person_by_smtp(
    database_url: str, tmp_path: Path, smtp: SmtpServer
) -> None:
    service = Service(mail_settings(database_url, tmp_path, None, smtp))
    harness = _ready(service)
    service.services.channels = Channels(telegram=True, email_out=True)
    transport = SmtpTransport(service.settings)
    harness.sender.transports["email"] = transport
    try:
        coordinator = coordinator_of(harness)
        await begin_entry(
            coordinator, PROPOSAL_BUTTON, "phone", "oral", "Jan Kowalski", "jan.k@example.pl"
        )
        await coordinator.press("Osoba prywatna")
        for typed in ("Jan Kowalski", "kgw@example.pl", "600 100 200", "Potańcówka", "Tańce."):
            await coordinator.send(typed)
        await coordinator.send("120")
        await coordinator.send("Nagłośnienie – 3000")
        await coordinator.press("Gotowe – budżet")
        await coordinator.press("Bez załączników")
        done = texts(await coordinator.press("Wyślij zgłoszenie"))
        assert said("onbehalf.email_queued", number=1, email="jan.k@example.pl") in done
        received = await smtp.await_messages(2)
        [mine] = [m for m in received if m.rcpt_tos == ["jan.k@example.pl"]]
        assert mine.subject == said("onbehalf.email_subject", number=1)
        assert "KP-TEST-001" in mine.text and said("onbehalf.via.phone") in mine.text
        assert "zgoda wyrażona ustnie" in mine.text.lower()
        async with service.store.transaction() as session:
            [proposal] = list(await session.scalars(select(Proposal)))
            [entry] = list(await session.scalars(select(EntryOnBehalf)))
        assert (proposal.channel, proposal.status) == ("phone", "submitted")
        assert proposal.resident_id == entry.resident_id
        assert (entry.proposal_id, entry.status, entry.consent) == (proposal.id, "done", "oral")
        listing = texts(await coordinator.send("/proposals"))
        assert channel_line(phone=1) in listing
    finally:
        await transport.close()
        await service.close()


async def test_without_consent_nothing_is_stored(harness: ChatHarness) -> None:
    coordinator = coordinator_of(harness)
    await coordinator.send("/onbehalf")
    await coordinator.send("/cancel")  # the coordinator's own working row now exists
    before = await stored_counts(harness)
    await coordinator.send("/onbehalf")
    await coordinator.press(SURVEY_BUTTON)
    await coordinator.press(said("onbehalf.channel.paper"))
    refused = await coordinator.press(said("onbehalf.consent.no"))
    assert texts(refused) == said("onbehalf.no_consent")
    assert await stored_counts(harness) == before
    # The old buttons do nothing once the entry is refused.
    stale = await coordinator.choose(OnBehalfPress("name", "skip").pack())
    assert texts(stale) == said("input.stale_button")
    assert await stored_counts(harness) == before


@pytest.mark.parametrize("steps", range(5))
async def test_cancel_at_every_step_stores_nothing(harness: ChatHarness, steps: int) -> None:
    coordinator = coordinator_of(harness)
    await coordinator.send("/onbehalf")
    await coordinator.send("/cancel")
    before = await stored_counts(harness)
    await coordinator.send("/onbehalf")
    moves = [
        lambda: coordinator.press(SURVEY_BUTTON),
        lambda: coordinator.press(said("onbehalf.channel.phone")),
        lambda: coordinator.press(said("onbehalf.consent.oral")),
        lambda: coordinator.send("Anna Lis"),
    ]
    for move in moves[:steps]:
        await move()
    cancelled = await coordinator.send("/cancel")
    assert texts(cancelled) == said("onbehalf.cancelled")
    assert await stored_counts(harness) == before


async def test_a_resident_cannot_enter_on_behalf(harness: ChatHarness) -> None:
    resident = harness.person(501, name="Ola")
    await resident.send("/start")
    await resident.press("Tak, zgadzam")
    before = await stored_counts(harness)
    assert texts(await resident.send("/onbehalf")) == said("admin.refused")
    forged = await resident.choose(OnBehalfPress("what", "s:probna").pack())
    assert texts(forged) == said("admin.refused")
    assert await stored_counts(harness) == before
    async with harness.service.store.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(EntryOnBehalf)) == 0


async def test_bad_email_is_asked_again_and_changes_nothing(harness: ChatHarness) -> None:
    coordinator = coordinator_of(harness)
    await coordinator.send("/onbehalf")
    await coordinator.press(SURVEY_BUTTON)
    await coordinator.press(said("onbehalf.channel.paper"))
    await coordinator.press(said("onbehalf.consent.signed"))
    await coordinator.press(said("survey.skip"))
    before = await stored_counts(harness)
    assert texts(await coordinator.send("helena@")) == said("flow.invalid.email")
    assert await stored_counts(harness) == before


async def test_the_person_gets_their_data_and_erasure_through_the_coordinator(
    harness: ChatHarness,
) -> None:
    coordinator = coordinator_of(harness)
    await begin_entry(coordinator, SURVEY_BUTTON, "paper", "signed", "Helena Nowak", None)
    await answer_all(coordinator, until=OUTRO, typed=TYPED)
    assert texts(await coordinator.send("/onbehalf abc")) == said("onbehalf.number_expected")
    assert texts(await coordinator.send("/onbehalf 7")) == said("onbehalf.unknown_entry", number=7)
    await coordinator.send("/onbehalf 1")
    [data] = await coordinator.press(said("onbehalf.person_data"))
    assert data.file is not None
    dump = json.loads(data.file.content)
    assert dump["profile"]["name"] == "Helena Nowak"
    [entry_data] = dump["entries_on_behalf"]
    assert (entry_data["number"], entry_data["channel"]) == (1, "paper")
    assert dump["survey_responses"][0]["answers"]["telefon"] == "+48600111222"

    # A resident cannot press the person's buttons.
    resident = harness.person(502, name="Ola")
    forged = await resident.choose(PersonPress("yes", 1).pack())
    assert texts(forged) == said("admin.refused")

    await coordinator.press(said("onbehalf.person_forget"))
    kept = await coordinator.press(said("onbehalf.person_forget_no"))
    assert texts(kept) == said("onbehalf.person_kept")
    await coordinator.press(said("onbehalf.person_forget"))
    done = await coordinator.press(said("onbehalf.person_forget_yes"))
    assert texts(done) == said("onbehalf.person_forgotten_now", number=1)
    async with harness.service.store.transaction() as session:
        [entry] = list(await session.scalars(select(EntryOnBehalf)))
        [response] = list(await session.scalars(select(SurveyResponse)))
        person = await session.scalar(select(Resident).where(Resident.forgotten_at.is_not(None)))
        kept_answers = await surveys.answers_of(session, response.id)
    assert person is not None and person.name is None
    assert (entry.name, entry.email, entry.resident_id) == (None, None, None)
    assert "formularz zgody" in entry.consent_note  # the proof of consent stays
    assert response.resident_id is None and "telefon" not in kept_answers
    again = texts(await coordinator.send("/onbehalf 1"))
    assert said("onbehalf.person_forgotten") in again


async def test_a_paused_entry_is_carried_on_by_its_number(harness: ChatHarness) -> None:
    coordinator = coordinator_of(harness)
    await begin_entry(coordinator, SURVEY_BUTTON, "phone", "oral", None, None)
    await coordinator.press("do 18")
    paused = await coordinator.send("/cancel")
    assert texts(paused) == said("onbehalf.paused", number=1)
    await coordinator.send("/onbehalf 1")
    resumed = texts(await coordinator.press(said("onbehalf.resume")))
    assert said("survey.resume", title="Ankieta próbna") in resumed
    assert "Co cię interesuje?" in resumed
    finished = await answer_all(coordinator, until=OUTRO, typed=TYPED)
    assert any(r.file is not None for r in finished)
    async with harness.service.store.transaction() as session:
        [response] = list(await session.scalars(select(SurveyResponse)))
        [entry] = list(await session.scalars(select(EntryOnBehalf)))
        answers = await surveys.answers_of(session, response.id)
    assert (response.status, response.channel, entry.status) == ("finished", "phone", "done")
    assert answers["wiek"] == {"choice": "do18"}


async def test_without_email_configured_the_address_gets_nothing_and_a_receipt_is_printed(
    harness: ChatHarness,
) -> None:
    coordinator = coordinator_of(harness)
    await begin_entry(coordinator, SURVEY_BUTTON, "paper", "signed", None, "h@example.pl")
    finished = await answer_all(coordinator, until=OUTRO, typed=TYPED)
    assert said("onbehalf.email_not_configured") in texts(finished)
    assert said("onbehalf.email_queued", number=1, email="h@example.pl") not in texts(finished)
    [receipt] = [r for r in finished if r.file is not None]
    assert receipt.file is not None and "Ankieta próbna" in receipt.file.content.decode()
    async with harness.service.store.transaction() as session:
        emails = await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.channel == "email")
        )
    assert emails == 0
