"""The coordinators' side of the contest through the terminal channel, on a real store:
proposals by status, a status change reaching the applicant, and what only coordinators
may do. Scoring and the selection are in test_review_scoring.py, residents' questions in
test_review_ask.py."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from handlers.contest.buttons import NoteSkip, ReviewChange, ScoreMark, SelectConfirm
from handlers.mailbox.buttons import AnswerQuestion
from storage import proposals
from storage.models import OutboxMessage, Resident
from tests.conftest import COORDINATOR_ID
from tests.handlers.contest.review_helpers import (
    coordinator,
    delivered_to,
    make,
    proposal,
    resident,
)
from tests.harness import ChatHarness, texts

WARSAW = ZoneInfo("Europe/Warsaw")


async def outbox_rows(harness: ChatHarness, channel: str) -> list[OutboxMessage]:
    async with harness.service.store.transaction() as session:
        return list(
            await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.channel == channel)
                .order_by(OutboxMessage.id)
            )
        )


# --- proposals by status, one proposal in full ---------------------------------------


async def test_proposals_overview_counts_statuses_and_opens_a_proposal(
    review_harness: ChatHarness,
) -> None:
    first = await make(review_harness)
    await make(review_harness, title="Kino pod chmurką", amounts=["4000"])
    marta = coordinator(review_harness)
    overview = texts(await marta.send("/proposals"))
    assert "Konkurs próbny" in overview
    assert "• złożone: 2" in overview and "• szkic: 0" in overview
    listing = await marta.press("złożone (2)")
    # Each proposal in full in the text; its button (number and title) fits a phone.
    assert any(
        first.number in line and "Potańcówka" in line and "8\u00a0500,50\u00a0zł" in line
        for line in listing[0].text.splitlines()
    )
    labels = [b.label for row in listing[0].buttons for b in row]
    assert any(first.number in label and "Potańcówka" in label for label in labels)
    shown = await marta.press(first.number)
    text = texts(shown)
    assert "Wniosek KP-TEST-001 „Potańcówka pod lipami”" in text
    assert "Koło Gospodyń Wiejskich" in text and "kgw@example.pl" in text
    assert "Pozycja 1: 6\u00a0000\u00a0zł" in text and "Razem: 8\u00a0500,50\u00a0zł" in text
    assert "Historia wniosku" in text and "złożone" in text
    assert "Nikt jeszcze nie ocenił" in text
    actions = [b.label for row in shown[-1].buttons for b in row]
    assert any("Poproś o poprawki" in a for a in actions)
    assert any("Oceń wniosek" in a for a in actions)


async def test_proposals_by_number_sends_the_attachments_as_files(
    review_harness: ChatHarness,
) -> None:
    made = await make(review_harness)
    data_dir = review_harness.service.services.data_dir
    (data_dir / "proposals").mkdir(parents=True, exist_ok=True)
    (data_dir / "proposals" / "plakat.pdf").write_bytes(b"%PDF-1.4 plakat")
    async with review_harness.service.store.transaction() as session:
        stored = await proposals.get(session, made.id)
        assert stored is not None
        await proposals.add_attachment(
            session,
            proposal=stored,
            name="plakat.pdf",
            mime_type="application/pdf",
            size=15,
            path="proposals/plakat.pdf",
        )
    replies = await coordinator(review_harness).send(f"/proposals {made.number.lower()}")
    [attached] = [r for r in replies if r.file is not None]
    assert attached.file is not None and attached.file.content == b"%PDF-1.4 plakat"
    assert "załącznik 1 z 1: plakat.pdf" in attached.text


# --- a status change reaches the applicant ----------------------------------------------


async def test_status_change_with_note_reaches_applicant_in_chat_and_email(
    review_harness: ChatHarness,
) -> None:
    ewa = await resident(review_harness, 601)
    made = await make(review_harness, telegram_id=601)
    marta = coordinator(review_harness)
    await marta.send(f"/proposals {made.number}")
    asked = await marta.press("Poproś o poprawki")
    assert "Do kiedy" in texts(asked)
    assert "minęła" in texts(await marta.send("01.06.2030"))
    note_prompt = await marta.send("20.06.2030")
    assert "Prosimy o poprawki." in texts(note_prompt)
    done = await marta.send("Proszę dopisać, kto poprowadzi tańce.")
    assert "ma teraz stan „do poprawy”" in texts(done)
    assert "na czacie" in texts(done) and "kgw@example.pl" in texts(done)

    [message] = delivered_to(review_harness, ewa)[-1:]
    assert "Zgłoszenie KP-TEST-001 „Potańcówka pod lipami”" in message.text
    assert "Prosimy o poprawki." in message.text
    assert "Proszę dopisać, kto poprowadzi tańce." in message.text
    assert "20 czerwca 2030" in message.text
    [mail] = await outbox_rows(review_harness, "email")
    assert mail.recipient == "kgw@example.pl"
    assert mail.payload["subject"] == "Zgłoszenie KP-TEST-001: do poprawy"
    assert "Proszę dopisać, kto poprowadzi tańce." in mail.payload["text"]
    assert mail.payload["text"].startswith("Dzień dobry,")

    changed = await proposal(review_harness, made.id)
    assert changed.status == proposals.CHANGES_REQUESTED
    assert changed.edit_until == datetime(2030, 6, 20, 23, 59, 59, tzinfo=WARSAW)
    async with review_harness.service.store.transaction() as session:
        last = (await proposals.history(session, made.id))[-1]
    assert (last.kind, last.from_status, last.to_status) == (
        "status",
        "submitted",
        "changes_requested",
    )
    assert last.actor == COORDINATOR_ID and last.note == "Proszę dopisać, kto poprowadzi tańce."


async def test_status_change_without_note_sends_the_contest_message_only(
    review_harness: ChatHarness,
) -> None:
    ewa = await resident(review_harness, 602)
    made = await make(review_harness, telegram_id=602)
    marta = coordinator(review_harness)
    await marta.send(f"/proposals {made.number}")
    await marta.press("Przyjmij")
    await marta.press("Wyślij bez dopisku")
    [message] = delivered_to(review_harness, ewa)[-1:]
    assert "Gratulacje!" in message.text and "Wiadomość z ośrodka" not in message.text
    assert (await proposal(review_harness, made.id)).status == proposals.ACCEPTED


async def test_status_change_cancelled_changes_nothing(review_harness: ChatHarness) -> None:
    await resident(review_harness, 603)
    made = await make(review_harness, telegram_id=603)
    marta = coordinator(review_harness)
    await marta.send(f"/proposals {made.number}")
    await marta.press("Odrzuć")
    before = await review_harness.row_counts()
    cancelled = await marta.send("/cancel")
    assert "stan wniosku się nie zmienił" in texts(cancelled)
    after = await review_harness.row_counts()
    assert after["proposal_history"] == before["proposal_history"]
    assert (await proposal(review_harness, made.id)).status == proposals.SUBMITTED
    assert await outbox_rows(review_harness, "email") == []


async def test_status_change_of_a_forgotten_applicant_goes_by_email_only(
    review_harness: ChatHarness,
) -> None:
    made = await make(review_harness, telegram_id=None)
    marta = coordinator(review_harness)
    await marta.send(f"/proposals {made.number}")
    await marta.press("Przekaż do oceny")
    done = await marta.send("Dziękujemy, wniosek jest kompletny.")
    assert "na czacie" not in texts(done) and "kgw@example.pl" in texts(done)
    assert len(await outbox_rows(review_harness, "email")) == 1


async def test_coordinator_working_row_later_becomes_a_resident_with_consent(
    review_harness: ChatHarness,
) -> None:
    made = await make(review_harness)
    marta = coordinator(review_harness)
    await marta.send(f"/proposals {made.number}")
    await marta.press("Odrzuć")
    await marta.send("/cancel")
    async with review_harness.service.store.transaction() as session:
        row = await session.scalar(select(Resident).where(Resident.telegram_id == COORDINATOR_ID))
    assert row is not None and row.consent_given_at is None
    await marta.send("/start")
    thanks = await marta.press("Tak, zgadzam")
    assert "Dziękujemy" in texts(thanks)
    async with review_harness.service.store.transaction() as session:
        rows = list(
            await session.scalars(select(Resident).where(Resident.telegram_id == COORDINATOR_ID))
        )
    assert len(rows) == 1 and rows[0].has_consent


# --- only coordinators ------------------------------------------------------------------


@pytest.mark.parametrize("command", ["/proposals", "/ranking", "/select"])
async def test_coordinator_commands_from_a_resident_are_refused(
    review_harness: ChatHarness, command: str
) -> None:
    ewa = await resident(review_harness, 620)
    assert "tylko dla koordynatorów" in texts(await ewa.send(command))


@pytest.mark.parametrize(
    "data",
    [
        ReviewChange(1, "accepted").pack(),
        ScoreMark(1, 0, 5).pack(),
        SelectConfirm().pack(),
        AnswerQuestion(1).pack(),
    ],
)
async def test_coordinator_buttons_forged_by_a_resident_are_refused(
    review_harness: ChatHarness, data: str
) -> None:
    made = await make(review_harness)
    assert made.id == 1
    ewa = await resident(review_harness, 621)
    before = await review_harness.row_counts()
    assert "tylko dla koordynatorów" in texts(await ewa.choose(data))
    after = await review_harness.row_counts()
    changed = {k for k in after if after[k] != before[k]}
    assert changed <= {"outbox", "inbound_receipts", "events"}
    assert (await proposal(review_harness, made.id)).status == proposals.SUBMITTED


async def test_note_button_without_a_change_in_progress_is_stale(
    review_harness: ChatHarness,
) -> None:
    marta = coordinator(review_harness)
    replies = await marta.choose(NoteSkip("skip").pack())
    assert "nieaktualny" in texts(replies)
