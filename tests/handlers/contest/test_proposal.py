"""Proposals from the applicant's side, through the terminal channel on a real store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from handlers.core.events import IncomingFile, Kind
from handlers.core.services import Channels
from storage import proposals
from storage.models import OutboxMessage
from tests.conftest import COORDINATOR_ID
from tests.handlers.contest_fixture import CLOSES, sample_contest
from tests.harness import ChatHarness, Person, texts

PDF = b"%PDF-1.4 trial attachment"


@pytest.fixture
def contest_harness(harness: ChatHarness) -> ChatHarness:
    services = harness.service.services
    services.contest = sample_contest()
    services.clock = lambda: datetime(2030, 5, 20, 10, 0, tzinfo=UTC)
    services.channels = Channels(telegram=True, email_out=True)
    return harness


async def applicant(harness: ChatHarness, user_id: int) -> Person:
    person = harness.person(user_id, name="Ewa")
    await person.send("/start")
    await person.press("Tak, zgadzam")
    return person


async def fill_form(ewa: Person) -> None:
    await ewa.send("/propose")
    await ewa.press("Grupa nieformalna")
    await ewa.send("Koło Gospodyń Wiejskich z Pomierzyna")
    await ewa.send("kgw@example.pl")
    await ewa.send("600 100 200")
    await ewa.send("Potańcówka pod lipami")
    await ewa.send("Wieczór tańców ludowych dla całej wsi.")
    await ewa.send("120")


async def stored(harness: ChatHarness) -> list[proposals.Proposal]:
    async with harness.service.store.transaction() as session:
        return list(await session.scalars(select(proposals.Proposal)))


async def test_proposal_full_path_with_budget_fix_attachment_edit_and_submit(
    contest_harness: ChatHarness,
) -> None:
    ewa = await applicant(contest_harness, 601)
    await fill_form(ewa)
    budget = await ewa.send("Nagłośnienie i muzyk – 6 000 zł")
    assert "Razem: 6\u00a0000\u00a0zł" in texts(budget)
    await ewa.send("Poczęstunek: 4500")
    over = await ewa.press("Gotowe – budżet")
    assert "10\u00a0500\u00a0zł" in texts(over) and "za dużo" in texts(over)
    await ewa.press("Usuń ostatnią")
    await ewa.send("Poczęstunek: 3500,50")
    files = await ewa.press("Gotowe – budżet")
    assert "Załączniki" in texts(files)
    saved = await ewa.send_kind(
        Kind.FILE,
        file=IncomingFile("f1", "plakat.pdf", "application/pdf", len(PDF), PDF),
    )
    assert "Zapisano załącznik plakat.pdf" in texts(saved)
    summary = await ewa.press("Gotowe – dalej")
    text = texts(summary)
    assert "Potańcówka pod lipami" in text and "Razem: 9\u00a0500,50\u00a0zł" in text
    assert "plakat.pdf" in text
    await ewa.press("Popraw pole")
    await ewa.press("Tytuł inicjatywy")
    back_to_summary = await ewa.send("Potańcówka pod starymi lipami")
    assert "Sprawdź swoje zgłoszenie" in texts(back_to_summary)
    done = await ewa.press("Wyślij zgłoszenie")
    assert "KP-TEST-001" in texts(done)
    assert "kgw@example.pl" in texts(done)
    [proposal] = await stored(contest_harness)
    assert proposal.status == "submitted" and proposal.number == "KP-TEST-001"
    assert proposal.answers["tytul"] == "Potańcówka pod starymi lipami"
    assert proposal.budget == [
        {"item": "Nagłośnienie i muzyk", "amount": "6000.00"},
        {"item": "Poczęstunek", "amount": "3500.50"},
    ]
    attachment = contest_harness.service.settings.data_dir / "attachments" / str(proposal.id)
    assert [p.read_bytes() for p in attachment.iterdir()] == [PDF]
    async with contest_harness.service.store.transaction() as session:
        rows = list(await session.scalars(select(OutboxMessage)))
    [email] = [r for r in rows if r.channel == "email"]
    assert email.recipient == "kgw@example.pl"
    assert "KP-TEST-001" in email.payload["subject"]
    assert "Nagłośnienie i muzyk" in email.payload["text"]
    assert any(
        r.recipient == str(COORDINATOR_ID) and "KP-TEST-001" in r.payload["text"] for r in rows
    )


async def test_proposal_draft_resumes_at_first_missing_field(
    contest_harness: ChatHarness,
) -> None:
    ewa = await applicant(contest_harness, 602)
    await ewa.send("/propose")
    await ewa.press("Osoba prywatna")
    await ewa.send("Ewa Nowak")
    assert "Szkic zgłoszenia jest zapisany" in texts(await ewa.send("/cancel"))
    resumed = await ewa.send("/propose")
    assert "Wracamy do twojego szkicu" in texts(resumed)
    assert "Adres e-mail" in texts(resumed)
    assert len(await stored(contest_harness)) == 1


async def test_proposal_invalid_answers_change_nothing(contest_harness: ChatHarness) -> None:
    ewa = await applicant(contest_harness, 603)
    await ewa.send("/propose")
    await ewa.press("Osoba prywatna")
    await ewa.send("Ewa Nowak")
    assert "adres e-mail" in texts(await ewa.send("ewa.nowak@"))
    [draft] = await stored(contest_harness)
    assert "email" not in draft.answers


async def test_proposal_line_over_cap_is_refused(contest_harness: ChatHarness) -> None:
    ewa = await applicant(contest_harness, 604)
    await fill_form(ewa)
    assert "limitu dofinansowania" in texts(await ewa.send("Scena – 12000"))
    assert "Nie widzę kwoty" in texts(await ewa.send("scena"))
    [draft] = await stored(contest_harness)
    assert draft.budget == []


async def test_proposal_after_deadline_is_refused_and_drafts_stay_readable(
    contest_harness: ChatHarness,
) -> None:
    ewa = await applicant(contest_harness, 605)
    await fill_form(ewa)
    await ewa.send("Scena – 2000")
    services = contest_harness.service.services
    services.clock = lambda: CLOSES  # the very minute of closing
    refused = await ewa.press("Gotowe – budżet")
    assert "zakończył się 7 czerwca 2030, 23:59" in texts(refused)
    assert "zakończył się" in texts(await ewa.send("/propose"))
    mine = await ewa.send("/myproposals")
    assert "szkic" in texts(mine)
    shown = await ewa.press("Pokaż")
    assert "Potańcówka pod lipami" in texts(shown)


async def test_proposal_withdraw_before_deadline(contest_harness: ChatHarness) -> None:
    ewa = await applicant(contest_harness, 606)
    await fill_form(ewa)
    await ewa.send("Scena – 2000")
    await ewa.press("Gotowe – budżet")
    await ewa.press("Bez załączników")
    await ewa.press("Wyślij zgłoszenie")
    await ewa.send("/myproposals")
    assert "na pewno wycofać" in texts(await ewa.press("Wycofaj"))
    assert "wycofane" in texts(await ewa.press("Tak, wycofuję"))
    [proposal] = await stored(contest_harness)
    assert proposal.status == "withdrawn"
    async with contest_harness.service.store.transaction() as session:
        kinds = [h.kind for h in await proposals.history(session, proposal.id)]
    assert kinds == ["created", "submitted", "withdrawn"]


async def test_proposal_two_proposals_get_consecutive_numbers(
    contest_harness: ChatHarness,
) -> None:
    for user_id in (607, 608):
        ewa = await applicant(contest_harness, user_id)
        await fill_form(ewa)
        await ewa.send("Scena – 2000")
        await ewa.press("Gotowe – budżet")
        await ewa.press("Bez załączników")
        await ewa.press("Wyślij zgłoszenie")
    numbers = sorted(p.number for p in await stored(contest_harness) if p.number)
    assert numbers == ["KP-TEST-001", "KP-TEST-002"]


async def test_proposal_changes_requested_can_be_edited_until_the_date(
    contest_harness: ChatHarness,
) -> None:
    ewa = await applicant(contest_harness, 609)
    await fill_form(ewa)
    await ewa.send("Scena – 2000")
    await ewa.press("Gotowe – budżet")
    await ewa.press("Bez załączników")
    await ewa.press("Wyślij zgłoszenie")
    now = contest_harness.service.services.clock()
    async with contest_harness.service.store.transaction() as session:
        [proposal] = list(await session.scalars(select(proposals.Proposal)))
        proposal.edit_until = now + timedelta(days=3)
        await proposals.record(session, proposal, "status", to_status=proposals.CHANGES_REQUESTED)
    await ewa.send("/myproposals")
    summary = await ewa.press("Otwórz")
    assert any("Wyślij poprawione" in b.label for r in summary for row in r.buttons for b in row)
    await ewa.press("Popraw pole")
    await ewa.press("Ile osób")
    await ewa.send("150")
    await ewa.press("Wyślij poprawione")
    [proposal] = await stored(contest_harness)
    assert proposal.status == "submitted" and proposal.answers["liczba"] == 150
    assert proposal.number == "KP-TEST-001"
    contest_harness.service.services.clock = lambda: now + timedelta(days=4)
    async with contest_harness.service.store.transaction() as session:
        [proposal] = list(await session.scalars(select(proposals.Proposal)))
        await proposals.record(session, proposal, "status", to_status=proposals.CHANGES_REQUESTED)
    await ewa.send("/myproposals")
    assert "Pokaż" in " ".join(b.label for r in ewa.seen[-1:] for row in r.buttons for b in row)


async def test_forget_removes_drafts_and_contact_fields_of_submitted(
    contest_harness: ChatHarness,
) -> None:
    ewa = await applicant(contest_harness, 610)
    await fill_form(ewa)
    await ewa.send("Scena – 2000")
    await ewa.press("Gotowe – budżet")
    await ewa.press("Bez załączników")
    await ewa.press("Wyślij zgłoszenie")
    await ewa.send("/propose new")
    await ewa.send("/forget")
    await ewa.press("Tak, usuń")
    [kept] = await stored(contest_harness)
    assert kept.status == "submitted" and kept.resident_id is None
    assert "email" not in kept.answers and "telefon" not in kept.answers
    assert kept.answers["tytul"] == "Potańcówka pod lipami"
