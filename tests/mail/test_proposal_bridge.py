"""An application that arrives by e-mail becomes a contest entry; a later e-mail is linked."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from storage import proposals
from tests.conftest import COORDINATOR_ID
from tests.handlers.contest_fixture import sample_contest
from tests.harness import ChatHarness
from tests.mail import corpus
from tests.mail.conftest import Recorder
from tests.mail.test_mailbox import coordinator, harness, receive, recorders  # noqa: F401


async def entries(harness: ChatHarness) -> list[proposals.Proposal]:  # noqa: F811
    async with harness.service.store.transaction() as session:
        return list(await session.scalars(select(proposals.Proposal)))


async def test_mail_turned_into_proposal_then_linked_again(
    harness: ChatHarness,  # noqa: F811
    recorders: dict[str, Recorder],  # noqa: F811
) -> None:
    services = harness.service.services
    services.contest = sample_contest()
    services.clock = lambda: datetime(2030, 5, 20, tzinfo=UTC)
    [first] = await receive(harness, corpus.outlook_alternative_with_attachments().raw)
    buttons = recorders["telegram"].buttons(str(COORDINATOR_ID))
    anna = await coordinator(harness)
    [made] = await anna.choose(buttons["📝 Utwórz wniosek"])
    assert "KP-TEST-001" in made.text
    [entry] = await entries(harness)
    assert entry.status == "submitted" and entry.source == "email"
    assert entry.answers["email"] == "kgw@example.pl"
    async with harness.service.store.transaction() as session:
        files = await proposals.attachments(session, entry.id)
        [kept] = await proposals.snapshots(session, entry.id)
    assert kept.kind == "submitted" and kept.files == [f.name for f in files]
    pdf = next(f for f in files if f.name.endswith(".pdf"))
    assert (harness.service.settings.data_dir / pdf.path).read_bytes().startswith(b"%PDF")

    # The applicant writes again: their own proposal is offered first.
    recorders["telegram"].delivered.clear()
    await receive(harness, corpus.utf8_thunderbird().raw)
    link = recorders["telegram"].buttons(str(COORDINATOR_ID))["🔗 Powiąż z wnioskiem"]
    [pick] = await anna.choose(link)
    labels = [b.label for row in pick.buttons for b in row]
    assert labels and labels[0].startswith("KP-TEST-001")
    [linked] = await anna.press("KP-TEST-001")
    assert "KP-TEST-001" in linked.text
    async with harness.service.store.transaction() as session:
        kinds = [h.kind for h in await proposals.history(session, entry.id)]
    assert kinds == ["submitted", "mail_linked"]
    assert first
