"""What a resubmitted proposal changed, as the coordinators see it, through the terminal
channel on a real store; and files changed after submitting, the proposal staying
submitted."""

from __future__ import annotations

from babel.dates import format_datetime

from handlers.core.events import Kind
from storage import proposals, residents
from tests.conftest import COORDINATOR_ID
from tests.handlers.contest.returned_helpers import (
    TITLE,
    files_of,
    line_button,
    pdf,
    return_for_changes,
    since_title,
    submitted,
    the_proposal,
)
from tests.harness import ChatHarness, Person, said, texts

NEW_TITLE = "Potańcówka pod starymi lipami"


async def retitle(applicant: Person) -> None:
    """The applicant opens the returned proposal and gives it a new title."""
    await applicant.send("/myproposals")
    await applicant.press(said("proposal.open", label="KP-TEST-001"))
    await applicant.press(said("proposal.edit"))
    await applicant.press("Tytuł inicjatywy")
    await applicant.send(NEW_TITLE)


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
