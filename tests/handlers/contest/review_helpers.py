"""Helpers for the coordinators' side of the contest (test_review*.py, test_way_back.py):
proposals written straight into the store, coordinators and residents in the chat."""

from __future__ import annotations

from datetime import UTC, datetime

from handlers.contest.buttons import ScoreMark
from handlers.core.events import Reply
from storage import proposals
from tests.conftest import COORDINATOR_ID
from tests.handlers.review_fixture import Made, submit_in
from tests.harness import ChatHarness, Person

SECOND_COORDINATOR = 900_002
NOW = datetime(2030, 6, 10, 10, 0, tzinfo=UTC)


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
