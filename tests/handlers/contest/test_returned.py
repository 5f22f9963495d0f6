"""Proposals after submitting, through the terminal channel on a real store: a proposal
returned for changes shows the note and the deadline, any budget line can be changed
or removed, and files can be added and removed until the deadline. What a resubmission
changed, as the coordinators see it, is in test_returned_changes.py."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from handlers.core.events import Kind
from storage import proposals
from tests.conftest import COORDINATOR_ID
from tests.handlers.contest.returned_helpers import (
    NOTE,
    TITLE,
    UNTIL_SHOWN,
    applicant,
    files_of,
    labels,
    line_button,
    pdf,
    return_for_changes,
    since_title,
    submitted,
    the_proposal,
)
from tests.handlers.contest_fixture import CLOSES, sample_contest
from tests.harness import ChatHarness, said, texts

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
