"""Proposals after submitting, through the terminal channel on a real store: a proposal
returned for changes shows the note and the deadline, any budget line can be changed
or removed, files can be added and removed until the deadline, and the coordinators
see what a resubmission changed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.dates import format_datetime
from sqlalchemy import select

from bot.app import Service
from handlers.core.events import IncomingFile, Kind, Reply
from handlers.core.services import Channels
from storage import proposals, residents
from tests.conftest import COORDINATOR_ID, make_settings
from tests.handlers.contest_fixture import CLOSES, sample_contest
from tests.harness import ChatHarness, Person, said, texts

NOW = datetime(2030, 5, 20, 10, 0, tzinfo=UTC)
# The deadline the coordinator types, as the applicant reads it (the centre's time).
UNTIL_TYPED, UNTIL_SHOWN = "28.05.2030", "28 maja 2030, 23:59"
NOTE = "Proszę dopisać, kto poprowadzi tańce, i zmniejszyć koszt poczęstunku."
TITLE = "Potańcówka pod lipami"


@pytest.fixture
async def contest_harness(database_url: str, tmp_path: Path) -> AsyncIterator[ChatHarness]:
    """On SQLite and on PostgreSQL: snapshots are JSON columns read back by both."""
    service = Service(make_settings(database_url, tmp_path))
    services = service.services
    services.contest = sample_contest()
    services.clock = lambda: NOW
    services.channels = Channels(telegram=True, email_out=True)
    try:
        yield ChatHarness(service)
    finally:
        await service.close()


def pdf(name: str, text: str) -> IncomingFile:
    content = f"%PDF-1.4 {text}".encode()
    return IncomingFile(name, name, "application/pdf", len(content), content)


async def applicant(harness: ChatHarness, user_id: int) -> Person:
    person = harness.person(user_id, name="Ewa")
    await person.send("/start")
    await person.press("Tak, zgadzam")
    await person.send("/propose")
    await person.press("Grupa nieformalna")
    for answer in ("Koło Gospodyń", "kgw@example.pl", "600 100 200", TITLE, "Tańce.", "120"):
        await person.send(answer)
    return person


async def submitted(harness: ChatHarness, user_id: int, lines: list[str]) -> Person:
    ewa = await applicant(harness, user_id)
    for line in lines:
        await ewa.send(line)
    await ewa.press(said("proposal.budget_done"))
    await ewa.send_kind(Kind.FILE, file=pdf("plakat.pdf", "plakat"))
    await ewa.press(said("proposal.files_done"))
    assert "KP-TEST-001" in texts(await ewa.press(said("proposal.submit")))
    return ewa


async def return_for_changes(harness: ChatHarness) -> None:
    marta = harness.person(COORDINATOR_ID, coordinator=True, name="Marta")
    await marta.send("/proposals KP-TEST-001")
    await marta.press("Poproś o poprawki")
    await marta.send(UNTIL_TYPED)
    await marta.send(NOTE)


async def files_of(harness: ChatHarness) -> list[str]:
    proposal_id = (await the_proposal(harness)).id
    async with harness.service.store.transaction() as session:
        return [a.name for a in await proposals.attachments(session, proposal_id)]


async def the_proposal(harness: ChatHarness) -> proposals.Proposal:
    async with harness.service.store.transaction() as session:
        [found] = list(await session.scalars(select(proposals.Proposal)))
        return found


async def since_title(harness: ChatHarness) -> str:
    """The title of the changes since the last submission, at its time."""
    proposal = await the_proposal(harness)
    async with harness.service.store.transaction() as session:
        last = (await proposals.snapshots(session, proposal.id))[-1]
    local = last.taken_at.astimezone(harness.service.services.timezone)
    when = format_datetime(local, "d MMMM y, HH:mm", locale="pl")
    return said("review.diff_since_title", when=when)


def labels(replies: list[Reply]) -> list[str]:
    return [b.label for r in replies for row in r.buttons for b in row]


NEW_TITLE = "Potańcówka pod starymi lipami"


async def retitle(applicant: Person) -> None:
    """The applicant opens the returned proposal and gives it a new title."""
    await applicant.send("/myproposals")
    await applicant.press(said("proposal.open", label="KP-TEST-001"))
    await applicant.press(said("proposal.edit"))
    await applicant.press("Tytuł inicjatywy")
    await applicant.send(NEW_TITLE)


def line_button(number: int, item: str, amount: str) -> str:
    return said("proposal.budget_line_button", number=number, item=item, amount=amount)


# --- the note and the deadline ------------------------------------------------------------


async def test_a_returned_proposal_opens_with_the_note_and_the_deadline(
    contest_harness: ChatHarness,
) -> None:
    ewa = await submitted(contest_harness, 701, ["Scena – 2000"])
    await return_for_changes(contest_harness)
    deadline = said("proposal.returned_deadline", when=UNTIL_SHOWN)
    assert deadline in texts(await ewa.send("/myproposals"))
    opened = texts(await ewa.press(said("proposal.open", label="KP-TEST-001")))
    assert said("proposal.returned", number="KP-TEST-001", title=TITLE) in opened
    assert said("proposal.returned_note", note=NOTE) in opened
    assert deadline in opened and said("proposal.returned_how") in opened
    # The summary it opens at says the deadline too, and sends the proposal again.
    assert opened.count(deadline) == 2
    assert said("proposal.resubmit") in labels(ewa.seen[-1:])


async def test_a_returned_proposal_without_a_deadline_says_so(
    contest_harness: ChatHarness,
) -> None:
    ewa = await submitted(contest_harness, 702, ["Scena – 2000"])
    async with contest_harness.service.store.transaction() as session:
        [found] = list(await session.scalars(select(proposals.Proposal)))
        await proposals.record(
            session, found, "status", to_status=proposals.CHANGES_REQUESTED, note=NOTE
        )
    await ewa.send("/myproposals")
    opened = texts(await ewa.press(said("proposal.open", label="KP-TEST-001")))
    assert said("proposal.returned_no_deadline") in opened
    assert said("proposal.returned_note", note=NOTE) in opened


# --- any budget line ---------------------------------------------------------------------


async def test_any_budget_line_can_be_changed_or_removed_after_confirming(
    contest_harness: ChatHarness,
) -> None:
    ewa = await applicant(contest_harness, 703)
    for line in ("Scena – 2000", "Poczęstunek – 4500", "Muzyk – 1500"):
        await ewa.send(line)
    # The amount of a line in the middle.
    opened = await ewa.press(line_button(2, "Poczęstunek", "4\u00a0500\u00a0zł"))
    assert said("proposal.line_prompt", number=2, line="Poczęstunek – 4\u00a0500\u00a0zł") in texts(
        opened
    )
    asked = await ewa.send("3 000 zł")
    assert said(
        "proposal.line_change_question",
        number=2,
        was="Poczęstunek – 4\u00a0500\u00a0zł",
        new="Poczęstunek – 3\u00a0000\u00a0zł",
    ) in texts(asked)
    assert (await the_proposal(contest_harness)).budget[1]["amount"] == "4500.00"  # not yet
    assert said("proposal.line_changed", number=2) in texts(
        await ewa.press(said("proposal.line_change_yes"))
    )
    # The name only of the first.
    await ewa.press(line_button(1, "Scena", "2\u00a0000\u00a0zł"))
    await ewa.press(said("proposal.line_name"))
    await ewa.send("Scena i nagłośnienie")
    await ewa.press(said("proposal.line_change_yes"))
    # A whole new line in place of the last, refused first as strictly as when adding.
    await ewa.press(line_button(3, "Muzyk", "1\u00a0500\u00a0zł"))
    assert said("budget.invalid.decimals") in texts(await ewa.send("Kapela – 1500,505"))
    assert said("budget.invalid.line_over_cap", cap="10\u00a0000\u00a0zł") in texts(
        await ewa.send("Kapela – 12000")
    )
    await ewa.send("Kapela ludowa – 1800")
    await ewa.press(said("proposal.line_change_yes"))
    assert (await the_proposal(contest_harness)).budget == [
        {"item": "Scena i nagłośnienie", "amount": "2000.00"},
        {"item": "Poczęstunek", "amount": "3000.00"},
        {"item": "Kapela ludowa", "amount": "1800.00"},
    ]
    # Removing asks first; "back" keeps the line.
    await ewa.press(line_button(2, "Poczęstunek", "3\u00a0000\u00a0zł"))
    asked = await ewa.press(said("proposal.line_remove"))
    assert said(
        "proposal.line_remove_question", number=2, line="Poczęstunek – 3\u00a0000\u00a0zł"
    ) in texts(asked)
    back = await ewa.press(said("proposal.line_back"))
    assert said("proposal.budget_pick_hint") in texts(back)
    assert len((await the_proposal(contest_harness)).budget) == 3
    await ewa.press(line_button(2, "Poczęstunek", "3\u00a0000\u00a0zł"))
    await ewa.press(said("proposal.line_remove"))
    removed = await ewa.press(said("proposal.line_remove_yes"))
    assert said("proposal.line_removed", number=2) in texts(removed)
    assert said("proposal.budget_total", total="3\u00a0800\u00a0zł") in texts(removed)
    assert [line["item"] for line in (await the_proposal(contest_harness)).budget] == [
        "Scena i nagłośnienie",
        "Kapela ludowa",
    ]


async def test_a_confirmation_for_a_line_that_changed_meanwhile_changes_nothing(
    contest_harness: ChatHarness,
) -> None:
    ewa = await applicant(contest_harness, 704)
    await ewa.send("Scena – 2000")
    await ewa.send("Muzyk – 1500")
    await ewa.press(line_button(2, "Muzyk", "1\u00a0500\u00a0zł"))
    await ewa.press(said("proposal.line_remove"))
    async with contest_harness.service.store.transaction() as session:
        [found] = list(await session.scalars(select(proposals.Proposal)))
        await proposals.set_budget(session, found, found.budget[:1])
    stale = await ewa.press(said("proposal.line_remove_yes"))
    assert said("input.stale_button") in texts(stale)
    assert (await the_proposal(contest_harness)).budget == [{"item": "Scena", "amount": "2000.00"}]


# --- files until the deadline ----------------------------------------------------------------


async def test_files_can_be_added_and_removed_after_submitting_until_the_call_closes(
    contest_harness: ChatHarness,
) -> None:
    ewa = await submitted(contest_harness, 705, ["Scena – 2000"])
    files_button = said("proposal.files_open", label="KP-TEST-001")
    assert files_button in labels(await ewa.send("/myproposals"))
    opened = await ewa.press(files_button)
    assert said("proposal.files_until", when="7 czerwca 2030, 23:59") in texts(opened)
    await ewa.send_kind(Kind.FILE, file=pdf("mapa.pdf", "mapa"))
    # Removing asks first; "no" keeps the file.
    asked = await ewa.press(said("proposal.file_remove", name="plakat.pdf"))
    assert said("proposal.file_remove_question", name="plakat.pdf") in texts(asked)
    await ewa.press(said("proposal.file_remove_no"))
    assert len(await files_of(contest_harness)) == 2
    await ewa.press(said("proposal.file_remove", name="plakat.pdf"))
    removed = await ewa.press(said("proposal.file_remove_yes"))
    assert said("proposal.file_removed", name="plakat.pdf") in texts(removed)
    # A file added after a removal never takes a kept file's place on disk.
    await ewa.send_kind(Kind.FILE, file=pdf("budzet.pdf", "budzet"))
    done = await ewa.press(said("proposal.files_done"))
    assert said(
        "proposal.files_updated", number="KP-TEST-001", names="mapa.pdf, budzet.pdf"
    ) in texts(done)
    proposal = await the_proposal(contest_harness)
    assert proposal.status == proposals.SUBMITTED
    told = [r.text for to, r in contest_harness.transport.delivered if to == str(COORDINATOR_ID)]
    title = proposal.answers[sample_contest().title_field]
    assert told[-1] == said(
        "proposal.coordinator_files_changed",
        number="KP-TEST-001",
        title=title,
        names="mapa.pdf, budzet.pdf",
    )
    folder = contest_harness.service.settings.data_dir / "attachments" / str(proposal.id)
    assert sorted(p.read_bytes() for p in folder.iterdir()) == [
        b"%PDF-1.4 budzet",
        b"%PDF-1.4 mapa",
    ]
    # The coordinators see what changed since the submission.
    marta = contest_harness.person(COORDINATOR_ID, coordinator=True, name="Marta")
    shown = texts(await marta.send("/proposals KP-TEST-001"))
    assert await since_title(contest_harness) in shown
    for change in (
        said("review.diff_file_added", name="mapa.pdf"),
        said("review.diff_file_added", name="budzet.pdf"),
        said("review.diff_file_removed", name="plakat.pdf"),
    ):
        assert change in shown, change
    # Once the call closes, the files of a submitted proposal are fixed.
    contest_harness.service.services.clock = lambda: CLOSES
    assert files_button not in labels(await ewa.send("/myproposals"))
    assert said("proposal.not_editable") in texts(await ewa.press(files_button))


async def test_files_of_a_returned_proposal_close_with_its_deadline(
    contest_harness: ChatHarness,
) -> None:
    ewa = await submitted(contest_harness, 706, ["Scena – 2000"])
    await return_for_changes(contest_harness)
    await ewa.send("/myproposals")
    await ewa.press(said("proposal.open", label="KP-TEST-001"))
    await ewa.press(said("proposal.edit"))
    files = await ewa.press(said("proposal.field_files"))
    assert said("proposal.files_until", when=UNTIL_SHOWN) in texts(files)
    contest_harness.service.services.clock = lambda: datetime(2030, 5, 29, 8, 0, tzinfo=UTC)
    refused = await ewa.press(said("proposal.file_remove", name="plakat.pdf"))
    assert said("proposal.edits_closed", when=UNTIL_SHOWN) in texts(refused)
    assert len(await files_of(contest_harness)) == 1


# --- what changed, for the coordinators ------------------------------------------------------


async def test_a_resubmission_tells_the_coordinators_what_changed(
    contest_harness: ChatHarness,
) -> None:
    ewa = await submitted(contest_harness, 707, ["Scena – 2000", "Poczęstunek – 4500"])
    await return_for_changes(contest_harness)
    await retitle(ewa)
    await ewa.press(said("proposal.edit"))
    await ewa.press(said("proposal.field_budget"))
    await ewa.press(line_button(2, "Poczęstunek", "4\u00a0500\u00a0zł"))
    await ewa.send("3000")
    await ewa.press(said("proposal.line_change_yes"))
    await ewa.send("Instruktor tańca – 800")
    await ewa.press(said("proposal.budget_done"))
    await ewa.press(said("proposal.edit"))
    await ewa.press(said("proposal.field_files"))
    await ewa.press(said("proposal.file_remove", name="plakat.pdf"))
    await ewa.press(said("proposal.file_remove_yes"))
    await ewa.send_kind(Kind.FILE, file=pdf("program.pdf", "program"))
    await ewa.press(said("proposal.files_done"))
    await ewa.press(said("proposal.resubmit"))

    changes = [
        said(
            "review.diff_field",
            question="Tytuł inicjatywy",
            before=TITLE,
            after=NEW_TITLE,
        ),
        said(
            "review.diff_line_changed",
            before="Poczęstunek – 4\u00a0500\u00a0zł",
            after="Poczęstunek – 3\u00a0000\u00a0zł",
        ),
        said("review.diff_line_added", line="Instruktor tańca – 800\u00a0zł"),
        said("review.diff_file_added", name="program.pdf"),
        said("review.diff_file_removed", name="plakat.pdf"),
    ]
    notices = [
        r.text
        for to, r in contest_harness.transport.delivered
        if to == str(COORDINATOR_ID) and "KP-TEST-001" in r.text
    ]
    notice = notices[-1]
    assert said("review.diff_title") in notice
    for change in changes:
        assert change in notice, change
    assert "Scena" not in notice and said("review.diff_line_removed", line="") not in notice

    proposal = await the_proposal(contest_harness)
    async with contest_harness.service.store.transaction() as session:
        kept = await proposals.snapshots(session, proposal.id)
    assert [s.kind for s in kept] == ["submitted", "resubmitted"]
    assert kept[0].files == ["plakat.pdf"] and kept[1].files == ["program.pdf"]
    marta = contest_harness.person(COORDINATOR_ID, coordinator=True, name="Marta")
    shown = texts(await marta.send("/proposals KP-TEST-001"))
    local = kept[1].taken_at.astimezone(contest_harness.service.services.timezone)
    when = format_datetime(local, "d MMMM y, HH:mm", locale="pl")
    assert said("review.diff_review_title", when=when) in shown
    for change in changes:
        assert change in shown, change


async def test_a_coordinator_who_chose_english_reads_the_changes_in_english(
    contest_harness: ChatHarness,
) -> None:
    ewa = await submitted(contest_harness, 711, ["Scena – 2000"])
    await return_for_changes(contest_harness)
    async with contest_harness.service.store.transaction() as session:
        marta = await residents.find_by_telegram_id(session, COORDINATOR_ID)
        assert marta is not None
        await residents.set_language(session, marta, language="en")
    await retitle(ewa)
    await ewa.press(said("proposal.resubmit"))
    notice = [r.text for to, r in contest_harness.transport.delivered if to == str(COORDINATOR_ID)][
        -1
    ]
    heading = said(
        "proposal.coordinator_resubmitted",
        "en",
        number="KP-TEST-001",
        title=NEW_TITLE,
    )
    assert notice.startswith(heading)
    assert said("review.diff_title", "en") in notice
    assert said("review.diff_title") not in notice


async def test_a_first_submission_shows_no_changes_to_the_coordinators(
    contest_harness: ChatHarness,
) -> None:
    await submitted(contest_harness, 708, ["Scena – 2000"])
    marta = contest_harness.person(COORDINATOR_ID, coordinator=True, name="Marta")
    shown = texts(await marta.send("/proposals KP-TEST-001"))
    assert said("review.diff_review_title", when="").split("(")[0] not in shown
    assert await since_title(contest_harness) not in shown
    notice = [r.text for to, r in contest_harness.transport.delivered if to == str(COORDINATOR_ID)]
    assert not any(said("review.diff_title") in text for text in notice)


async def test_cancel_while_changing_files_says_the_proposal_stays_submitted(
    contest_harness: ChatHarness,
) -> None:
    ewa = await submitted(contest_harness, 706, ["Scena – 2000"])
    await ewa.send("/myproposals")
    await ewa.press(said("proposal.files_open", label="KP-TEST-001"))
    await ewa.send_kind(Kind.FILE, file=pdf("mapa.pdf", "mapa"))
    cancelled = texts(await ewa.send("/cancel"))
    # No draft to come back to: what was added is kept, the proposal stays submitted.
    assert said("proposal.files_left") in cancelled
    assert said("proposal.left") not in cancelled
    assert (await the_proposal(contest_harness)).status == proposals.SUBMITTED
    assert "mapa.pdf" in await files_of(contest_harness)


async def test_removing_a_file_that_came_by_email_keeps_the_mailboxs_copy(
    contest_harness: ChatHarness,
) -> None:
    ewa = await submitted(contest_harness, 709, ["Scena – 2000"])
    mail_file = contest_harness.service.settings.data_dir / "mail" / "ab" / "kosztorys.pdf"
    mail_file.parent.mkdir(parents=True, exist_ok=True)
    mail_file.write_bytes(b"%PDF-1.4 kosztorys")
    proposal = await the_proposal(contest_harness)
    async with contest_harness.service.store.transaction() as session:
        found = await proposals.get(session, proposal.id)
        assert found is not None
        await proposals.add_attachment(
            session,
            proposal=found,
            name="kosztorys.pdf",
            mime_type="application/pdf",
            size=18,
            path="mail/ab/kosztorys.pdf",
        )
    await ewa.send("/myproposals")
    await ewa.press(said("proposal.files_open", label="KP-TEST-001"))
    await ewa.press(said("proposal.file_remove", name="kosztorys.pdf"))
    await ewa.press(said("proposal.file_remove_yes"))
    await ewa.press(said("proposal.file_remove", name="plakat.pdf"))
    await ewa.press(said("proposal.file_remove_yes"))
    assert await files_of(contest_harness) == []
    assert mail_file.read_bytes() == b"%PDF-1.4 kosztorys"
    folder = contest_harness.service.settings.data_dir / "attachments" / str(proposal.id)
    assert not folder.exists()
