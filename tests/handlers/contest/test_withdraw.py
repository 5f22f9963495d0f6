"""Withdrawing a proposal: asked first with a way back, undone while the call is open."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from handlers.core.services import Channels
from storage import proposals, residents
from tests.conftest import COORDINATOR_ID
from tests.handlers.contest.test_proposal import applicant, fill_form, stored
from tests.handlers.contest_fixture import CLOSES, sample_contest
from tests.harness import ChatHarness, Person, said, texts


@pytest.fixture
def contest_harness(harness: ChatHarness) -> ChatHarness:
    services = harness.service.services
    services.contest = sample_contest()
    services.clock = lambda: datetime(2030, 5, 20, 10, 0, tzinfo=UTC)
    services.channels = Channels(telegram=True, email_out=True)
    return harness


async def submitted(harness: ChatHarness, user_id: int) -> Person:
    ewa = await applicant(harness, user_id)
    await fill_form(ewa)
    await ewa.send("Scena – 2000")
    await ewa.press("Gotowe – budżet")
    await ewa.press("Bez załączników")
    await ewa.press("Wyślij zgłoszenie")
    return ewa


async def history(harness: ChatHarness, proposal_id: int) -> list[tuple[str, str | None]]:
    async with harness.service.store.transaction() as session:
        return [(h.kind, h.to_status) for h in await proposals.history(session, proposal_id)]


def coordinator_notices(harness: ChatHarness) -> list[str]:
    return [r.text for to, r in harness.transport.delivered if to == str(COORDINATOR_ID)]


def notice(key: str, proposal: proposals.Proposal, language: str = "pl") -> str:
    title = proposal.answers[sample_contest().title_field]
    return said(key, language, number=proposal.number, title=title)


def labels(replies: list) -> list[str]:
    return [b.label for r in replies for row in r.buttons for b in row]


async def test_withdraw_question_has_a_way_back_and_says_it_can_be_undone(
    contest_harness: ChatHarness,
) -> None:
    ewa = await submitted(contest_harness, 701)
    await ewa.send("/myproposals")
    [question] = await ewa.press("Wycofaj")
    assert said("proposal.withdraw_yes") in labels([question])
    assert said("proposal.withdraw_no") in labels([question])
    assert "/myproposals" in question.text
    kept = await ewa.press(said("proposal.withdraw_no"))
    [proposal] = await stored(contest_harness)
    assert texts(kept).startswith(said("proposal.withdraw_kept", number=proposal.number))
    assert proposal.status == "submitted"
    assert [k for k, _ in await history(contest_harness, proposal.id)] == ["created", "submitted"]


async def test_typed_nie_keeps_the_proposal(contest_harness: ChatHarness) -> None:
    ewa = await submitted(contest_harness, 702)
    await ewa.send("/myproposals")
    await ewa.press("Wycofaj")
    await ewa.send("Nie")
    [proposal] = await stored(contest_harness)
    assert proposal.status == "submitted"


async def test_withdrawal_undone_returns_the_status_and_keeps_the_history(
    contest_harness: ChatHarness,
) -> None:
    ewa = await submitted(contest_harness, 703)
    await ewa.send("/myproposals")
    await ewa.press("Wycofaj")
    withdrawn = await ewa.send("tak")
    [proposal] = await stored(contest_harness)
    assert proposal.status == "withdrawn"
    # The coordinators hear of it, as they heard of the submission.
    assert coordinator_notices(contest_harness)[-1] == notice(
        "proposal.coordinator_withdrawn", proposal
    )
    assert said("proposal.restore_now") in labels(withdrawn)
    restored = await ewa.press(said("proposal.restore_now"))
    assert texts(restored) == said(
        "proposal.restored", number=proposal.number, status=said("proposal.status.submitted")
    )
    [proposal] = await stored(contest_harness)
    assert proposal.status == "submitted"
    assert await history(contest_harness, proposal.id) == [
        ("created", None),
        ("submitted", "submitted"),
        ("withdrawn", "withdrawn"),
        ("withdrawal_undone", "submitted"),
    ]
    assert coordinator_notices(contest_harness)[-1] == notice(
        "proposal.coordinator_restored", proposal
    )
    told = len(coordinator_notices(contest_harness))
    # Pressed again (an old message): nothing to undo, nothing written, nobody told.
    again = await ewa.press(said("proposal.restore_now"))
    assert texts(again) == said("proposal.restore_not_withdrawn", number=proposal.number)
    assert len(await history(contest_harness, proposal.id)) == 4
    assert len(coordinator_notices(contest_harness)) == told


async def test_a_coordinator_who_chose_english_is_told_in_english(
    contest_harness: ChatHarness,
) -> None:
    async with contest_harness.service.store.transaction() as session:
        await residents.create_with_consent(
            session, telegram_id=COORDINATOR_ID, name="Marta", language="en"
        )
    ewa = await submitted(contest_harness, 708)
    [proposal] = await stored(contest_harness)
    assert coordinator_notices(contest_harness)[-1] == notice(
        "proposal.coordinator_new", proposal, "en"
    )
    await ewa.send("/myproposals")
    await ewa.press("Wycofaj")
    await ewa.send("tak")
    assert coordinator_notices(contest_harness)[-1] == notice(
        "proposal.coordinator_withdrawn", proposal, "en"
    )
    assert said("proposal.coordinator_withdrawn", "en") != said("proposal.coordinator_withdrawn")


async def test_my_proposals_offers_the_undo_while_the_call_is_open(
    contest_harness: ChatHarness,
) -> None:
    ewa = await submitted(contest_harness, 704)
    await ewa.send("/myproposals")
    await ewa.press("Wycofaj")
    await ewa.press(said("proposal.withdraw_yes"))
    [proposal] = await stored(contest_harness)
    listing = await ewa.send("/myproposals")
    assert said("proposal.restore", label=proposal.number) in labels(listing)
    await ewa.press(said("proposal.restore", label=proposal.number))
    [proposal] = await stored(contest_harness)
    assert proposal.status == "submitted"


async def test_no_undo_after_the_call_closed(contest_harness: ChatHarness) -> None:
    ewa = await submitted(contest_harness, 705)
    await ewa.send("/myproposals")
    await ewa.press("Wycofaj")
    await ewa.press(said("proposal.withdraw_yes"))
    contest_harness.service.services.clock = lambda: CLOSES + timedelta(minutes=1)
    listing = await ewa.send("/myproposals")
    [proposal] = await stored(contest_harness)
    assert said("proposal.restore", label=proposal.number) not in labels(listing)
    refused = await ewa.press(said("proposal.restore_now"))
    assert said("proposal.restore_closed", when="")[:20] in texts(refused)
    [proposal] = await stored(contest_harness)
    assert proposal.status == "withdrawn"
    assert [k for k, _ in await history(contest_harness, proposal.id)][-1] == "withdrawn"


# --- labels from content fit a phone, cut at a word ------------------------------------

LONG_NAME = "Jak się nazywasz – albo jak nazywa się Wasza grupa lub organizacja?"


async def test_long_question_texts_on_buttons_are_cut_at_a_word(harness: ChatHarness) -> None:
    contest = sample_contest()
    form = [q.model_dump(mode="json", exclude_none=True) for q in contest.form]
    form[1]["text"] = {"pl": LONG_NAME, "en": "Name"}
    services = harness.service.services
    services.contest = sample_contest(form=form)
    services.clock = lambda: datetime(2030, 5, 20, 10, 0, tzinfo=UTC)
    ewa = await applicant(harness, 706)
    await fill_form(ewa)
    await ewa.send("Scena – 2000")
    await ewa.press("Gotowe – budżet")
    await ewa.press("Bez załączników")
    fields = await ewa.press(said("proposal.edit"))
    [label] = [x for x in labels(fields) if x.startswith("Jak się nazywasz")]
    assert label.endswith("…")
    head = label.removesuffix("…")
    assert LONG_NAME.startswith(head) and not LONG_NAME[len(head)].isalnum()
