"""Helpers for proposals after submitting (test_returned*.py): an applicant who fills in
and submits a proposal, a coordinator who returns it for changes, what is stored."""

from __future__ import annotations

from datetime import UTC, datetime

from babel.dates import format_datetime
from sqlalchemy import select

from handlers.core.events import IncomingFile, Kind, Reply
from storage import proposals
from tests.conftest import COORDINATOR_ID
from tests.harness import ChatHarness, Person, said, texts

NOW = datetime(2030, 5, 20, 10, 0, tzinfo=UTC)
# The deadline the coordinator types, as the applicant reads it (the centre's time).
UNTIL_TYPED, UNTIL_SHOWN = "28.05.2030", "28 maja 2030, 23:59"
NOTE = "Proszę dopisać, kto poprowadzi tańce, i zmniejszyć koszt poczęstunku."
TITLE = "Potańcówka pod lipami"


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


def line_button(number: int, item: str, amount: str) -> str:
    return said("proposal.budget_line_button", number=number, item=item, amount=amount)
