"""The coordinators' confirmations have a way back that changes nothing."""

from __future__ import annotations

import pytest

from handlers.core.services import Channels
from storage import proposals, scores
from tests.conftest import COORDINATOR_ID
from tests.handlers.contest.review_helpers import NOW, coordinator, give_marks, make, proposal
from tests.handlers.contest_fixture import sample_contest
from tests.harness import ChatHarness, said, texts


@pytest.fixture
def review_harness(harness: ChatHarness) -> ChatHarness:
    services = harness.service.services
    services.contest = sample_contest()
    services.clock = lambda: NOW
    services.coordinator_ids = frozenset({COORDINATOR_ID})
    services.channels = Channels(telegram=True, email_out=True)
    return harness


async def test_status_change_left_with_the_button_changes_nothing(
    review_harness: ChatHarness,
) -> None:
    made = await make(review_harness)
    marta = coordinator(review_harness)
    await marta.send(f"/proposals {made.number}")
    [asked] = await marta.press("Przyjmij")
    assert "nie da się cofnąć" in asked.text
    left = await marta.press(said("review.note_leave"))
    assert texts(left) == said("review.note_cancelled")
    assert (await proposal(review_harness, made.id)).status == proposals.SUBMITTED
    # Back to the proposal from there.
    shown = await marta.press(said("review.back_to_proposal"))
    assert made.number in texts(shown)


async def test_selection_left_with_the_button_confirms_nothing(
    review_harness: ChatHarness,
) -> None:
    marta = coordinator(review_harness)
    made = await make(review_harness, title="A", amounts=["1000"])
    await give_marks(marta, made, [5, 5])
    await marta.send("/select")
    left = await marta.press(said("review.select_leave"))
    assert texts(left) == said("review.select_cancelled")
    async with review_harness.service.store.transaction() as session:
        assert await scores.outcome(session, "test-2030") == []
