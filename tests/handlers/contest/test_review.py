"""The coordinators' side of the contest through the terminal channel, on a real store:
proposals by status, a status change reaching the applicant, scoring by two
coordinators, the ranking, the selection, and residents' questions."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.contest.buttons import NoteSkip, ReviewChange, ScoreMark, ScoreShow, SelectConfirm
from handlers.core.events import Reply
from handlers.core.services import Channels
from handlers.mailbox.buttons import AnswerQuestion
from storage import proposals, questions, scores
from storage.models import OutboxMessage, Resident
from tests.conftest import COORDINATOR_ID
from tests.handlers.contest_fixture import sample_contest
from tests.handlers.review_fixture import Made, submit_in
from tests.harness import ChatHarness, Person, said, texts

SECOND_COORDINATOR = 900_002
NOW = datetime(2030, 6, 10, 10, 0, tzinfo=UTC)
WARSAW = ZoneInfo("Europe/Warsaw")


@pytest.fixture
def review_harness(harness: ChatHarness) -> ChatHarness:
    services = harness.service.services
    services.contest = sample_contest()
    services.clock = lambda: NOW
    services.coordinator_ids = frozenset({COORDINATOR_ID, SECOND_COORDINATOR})
    services.channels = Channels(telegram=True, email_out=True)
    return harness


async def resident(harness: ChatHarness, user_id: int, name: str = "Ewa") -> Person:
    person = harness.person(user_id, name=name)
    await person.send("/start")
    await person.press("Tak, zgadzam")
    return person


def coordinator(harness: ChatHarness, user_id: int = COORDINATOR_ID) -> Person:
    return harness.person(user_id, coordinator=True, name="Marta")


async def make(harness: ChatHarness, **values: object) -> Made:
    contest = harness.service.services.contest
    assert contest is not None
    values.setdefault("title", "Potańcówka pod lipami")
    values.setdefault("amounts", ["6000", "2500.50"])
    return await submit_in(harness.service.store, contest, **values)


def delivered_to(harness: ChatHarness, person: Person) -> list[Reply]:
    """Everything delivered to this person's chat, also what others' actions sent them."""
    found = [r for to, r in harness.transport.delivered if to == str(person.user_id)]
    person.seen = list(found)
    return found


async def outbox_rows(harness: ChatHarness, channel: str) -> list[OutboxMessage]:
    async with harness.service.store.transaction() as session:
        return list(
            await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.channel == channel)
                .order_by(OutboxMessage.id)
            )
        )


async def proposal(harness: ChatHarness, proposal_id: int) -> proposals.Proposal:
    async with harness.service.store.transaction() as session:
        found = await proposals.get(session, proposal_id)
        assert found is not None
        return found


async def give_marks(person: Person, made: Made, marks: list[int]) -> list[Reply]:
    replies: list[Reply] = []
    for index, mark in enumerate(marks):
        replies = await person.choose(ScoreMark(made.id, index, mark).pack())
    return replies


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


# --- scoring, the ranking, the selection --------------------------------------------------


async def test_scoring_by_two_coordinators_ranks_with_scorers_and_spread(
    review_harness: ChatHarness,
) -> None:
    dance = await make(review_harness, title="Potańcówka", amounts=["8000"])
    cinema = await make(review_harness, title="Kino", amounts=["5000"], minutes=5)
    marta = coordinator(review_harness)
    jan = coordinator(review_harness, SECOND_COORDINATOR)
    await marta.send(f"/proposals {dance.number}")
    first = await marta.press("Oceń wniosek")
    assert "Kryterium 1 z 2: Zgodność z celami (waga 2)" in texts(first)
    await marta.press("5")
    done = await marta.press("3")
    assert "ocena wniosku KP-TEST-001 jest zapisana" in texts(done)
    assert "koordynator 900001: 4,33 z 5" in texts(done)
    await give_marks(jan, dance, [3, 3])
    await give_marks(marta, cinema, [4, 4])
    await give_marks(jan, cinema, [4, 4])

    ranking = texts(await marta.send("/ranking"))
    lines = [line for line in ranking.splitlines() if "KP-TEST" in line]
    # Dance: totals 13/15 and 9/15, mean 11/15 → 3,67; cinema 4,00 for both, no spread.
    assert lines[0].startswith("1. KP-TEST-002 „Kino” – 4,00 (oceniających: 2, rozrzut: 0,00)")
    assert lines[1].startswith(
        "2. KP-TEST-001 „Potańcówka” – 3,67 (oceniających: 2, rozrzut: 1,33)"
    )


async def test_scoring_again_replaces_the_earlier_mark(review_harness: ChatHarness) -> None:
    made = await make(review_harness)
    marta = coordinator(review_harness)
    await give_marks(marta, made, [1, 1])
    again = await marta.choose(ScoreShow(made.id, 0).pack())
    assert "Twoja obecna ocena: 1" in texts(again)
    await give_marks(marta, made, [5, 5])
    async with review_harness.service.store.transaction() as session:
        stored = await scores.of_proposal(session, made.id)
    assert sorted((s.criterion, s.value) for s in stored) == [("budzet", 5), ("cele", 5)]


async def test_select_budget_forces_a_lower_ranked_choice_and_confirm_stores_outcome(
    review_harness: ChatHarness,
) -> None:
    marta = coordinator(review_harness)
    made = {}
    for name, amount, mark in [
        ("A", "10000", 5),
        ("B", "9000", 4),
        ("C", "9000", 3),
        ("D", "2500", 2),
        ("E", "2000", 1),
    ]:
        made[name] = await make(review_harness, title=name, amounts=[amount])
        await give_marks(marta, made[name], [mark, mark])
    proposed = texts(await marta.send("/select"))
    assert "✅ 1. KP-TEST-001" in proposed and "✅ 3. KP-TEST-003" in proposed
    assert "▫️ 4. KP-TEST-004" in proposed and "✅ 5. KP-TEST-005" in proposed
    assert "Pominięte, bo nie mieszczą się już w budżecie: KP-TEST-004" in proposed
    assert "Wybrane: 4, na kwotę 30\u00a0000\u00a0zł" in proposed
    done = await marta.press("Zatwierdź wybór")
    assert "dofinansowane wnioski: 4" in texts(done)
    async with review_harness.service.store.transaction() as session:
        outcome = await scores.outcome(session, "test-2030")
    assert [(o.rank, o.selected, Decimal(o.amount)) for o in outcome] == [
        (1, True, Decimal("10000")),
        (2, True, Decimal("9000")),
        (3, True, Decimal("9000")),
        (4, False, Decimal("2500")),
        (5, True, Decimal("2000")),
    ]
    assert all(o.decided_by == COORDINATOR_ID for o in outcome)


async def test_select_adjusted_by_toggling_then_confirmed(review_harness: ChatHarness) -> None:
    marta = coordinator(review_harness)
    first = await make(review_harness, title="A", amounts=["10000"])
    second = await make(review_harness, title="B", amounts=["10000"])
    third = await make(review_harness, title="C", amounts=["10000"])
    for made, mark in ((first, 5), (second, 4), (third, 3)):
        await give_marks(marta, made, [mark, mark])
    await marta.send("/select")
    adjusted = texts(await marta.press(f"✅ {second.number}"))
    assert "zmieniony ręcznie" in adjusted and f"▫️ 2. {second.number}" in adjusted
    assert "mniej wniosków, niż przewiduje regulamin (co najmniej 3)" in adjusted
    await marta.press("Zatwierdź wybór")
    async with review_harness.service.store.transaction() as session:
        outcome = {o.proposal_id: o.selected for o in await scores.outcome(session, "test-2030")}
    assert outcome == {first.id: True, second.id: False, third.id: True}


async def test_select_over_budget_cannot_be_confirmed(review_harness: ChatHarness) -> None:
    marta = coordinator(review_harness)
    made = [await make(review_harness, title=t, amounts=["10000"]) for t in "ABCD"]
    for entry in made:
        await give_marks(marta, entry, [3, 3])
    proposed = texts(await marta.send("/select"))
    assert f"▫️ 4. {made[3].number}" in proposed
    over = texts(await marta.press(f"▫️ {made[3].number}"))
    assert "przekraczają budżet konkursu" in over
    refused = await marta.press("Zatwierdź wybór")
    assert "Nie można zatwierdzić" in texts(refused)
    async with review_harness.service.store.transaction() as session:
        assert await scores.outcome(session, "test-2030") == []


# --- questions to the coordinators --------------------------------------------------------


async def test_ask_round_trip_from_resident_to_coordinator_and_back(
    review_harness: ChatHarness,
) -> None:
    ewa = await resident(review_harness, 611)
    marta = coordinator(review_harness)
    jan = coordinator(review_harness, SECOND_COORDINATOR)
    assert "Napisz swoje pytanie" in texts(await ewa.send("/ask"))
    sent = await ewa.send("Czy grupa może złożyć dwa wnioski?")
    assert "trafiło do ośrodka" in texts(sent)
    for person in (marta, jan):
        [notice] = delivered_to(review_harness, person)
        assert "Ewa (Telegram 611)" in notice.text
        assert "Czy grupa może złożyć dwa wnioski?" in notice.text
    assert "bez odpowiedzi: 1" in texts(await marta.send("/admin"))
    delivered_to(review_harness, marta)
    prompt = await marta.press("Odpowiedz")
    assert "Czy grupa może złożyć dwa wnioski?" in texts(prompt)
    sent_back = await marta.send("Tak, jeśli to dwa różne pomysły.")
    assert said("ask.answer_queued") in texts(sent_back)
    [answer] = delivered_to(review_harness, ewa)[-1:]
    assert "Tak, jeśli to dwa różne pomysły." in answer.text
    assert "Czy grupa może złożyć dwa wnioski?" in answer.text
    late = await jan.press("Odpowiedz")
    assert "już odpowiedziano (koordynator 900001)" in texts(late)
    async with review_harness.service.store.transaction() as session:
        [stored] = await questions.of_resident(session, await _resident_id(session, 611))
    assert stored.answered_by == COORDINATOR_ID
    assert stored.answer == "Tak, jeśli to dwa różne pomysły."
    assert "bez odpowiedzi: 0" in texts(await marta.send("/admin"))


async def _resident_id(session: AsyncSession, telegram_id: int) -> int:
    row = await session.scalar(select(Resident).where(Resident.telegram_id == telegram_id))
    assert row is not None
    return row.id


async def test_ask_in_one_go_and_listed_on_the_admin_panel(review_harness: ChatHarness) -> None:
    ewa = await resident(review_harness, 612)
    await ewa.send("/ask Do kiedy można składać wnioski?")
    marta = coordinator(review_harness)
    await marta.send("/admin")
    listed = await marta.press("Pytania mieszkańców")
    assert "Pytania bez odpowiedzi: 1" in texts(listed)
    assert "Do kiedy można składać wnioski?" in texts(listed)
    await marta.press("Odpowiedz")
    await marta.send("Do 7 czerwca, do 23:59.")
    [answer] = delivered_to(review_harness, ewa)[-1:]
    assert "Do 7 czerwca, do 23:59." in answer.text


async def test_ask_needs_consent_and_forget_deletes_the_question(
    review_harness: ChatHarness,
) -> None:
    stranger = review_harness.person(613)
    assert "/start" in texts(await stranger.send("/ask Halo?"))
    ewa = await resident(review_harness, 614)
    await ewa.send("/ask Czy są warsztaty dla dzieci?")
    await ewa.send("/forget")
    await ewa.press("Tak, usuń")
    # The question is free text about the person: it goes, and so does the notice.
    async with review_harness.service.store.transaction() as session:
        assert await questions.unanswered(session) == []
        payloads = [m.payload for m in await session.scalars(select(OutboxMessage))]
    assert not any("warsztaty dla dzieci" in str(p) for p in payloads)


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
