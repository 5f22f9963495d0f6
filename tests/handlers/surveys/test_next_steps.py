"""After a survey: a willing leader is invited to propose an idea while a call is open."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from handlers.core.events import Reply
from tests.handlers.contest_fixture import sample_contest
from tests.handlers.survey_fixture import SAMPLE, sample_survey
from tests.harness import ChatHarness, Person, said, texts

LEADERS = [q for q in SAMPLE["questions"] if q["id"] in ("inicjatywa", "kontakt")]


def labels(replies: list[Reply]) -> list[str]:
    return [b.label for r in replies for row in r.buttons for b in row]


@pytest.fixture
def leaders_harness(harness: ChatHarness) -> ChatHarness:
    services = harness.service.services
    survey = sample_survey(
        questions=LEADERS,
        leaders={"interest": "inicjatywa", "values": ["poprowadze"], "consent": "kontakt"},
    )
    services.surveys = {survey.slug: survey}
    services.contest = sample_contest()
    services.clock = lambda: datetime(2030, 5, 20, 10, 0, tzinfo=UTC)
    return harness


async def resident(harness: ChatHarness, user_id: int) -> Person:
    person = harness.person(user_id)
    await person.send("/start")
    await person.press(said("start.consent_yes"))
    await person.press(said("news.no"))
    return person


async def test_a_willing_leader_is_invited_to_propose_in_the_thanks(
    leaders_harness: ChatHarness,
) -> None:
    anna = await resident(leaders_harness, 801)
    await anna.send("/survey")
    await anna.press("Tak, poprowadzę")
    [thanks] = await anna.press("Nie")
    assert "Dziękujemy za udział" in thanks.text
    assert said("survey.leader_invitation") in thanks.text
    # The invitation's button, then the rest of the menu without repeating it.
    assert labels([thanks])[0] == said("menu.propose")
    assert labels([thanks]).count(said("menu.propose")) == 1
    started = await anna.press(said("menu.propose"))
    assert "Kto zgłasza?" in texts(started)


async def test_someone_not_leading_gets_no_invitation(leaders_harness: ChatHarness) -> None:
    ola = await resident(leaders_harness, 802)
    await ola.send("/survey")
    [thanks] = await ola.press("Nie teraz")
    assert said("survey.leader_invitation") not in thanks.text
    assert said("menu.ask") in labels([thanks])


async def test_no_invitation_when_the_call_is_closed(leaders_harness: ChatHarness) -> None:
    leaders_harness.service.services.contest = sample_contest(
        closes=datetime(2030, 5, 1, tzinfo=UTC)
    )
    anna = await resident(leaders_harness, 803)
    await anna.send("/survey")
    await anna.press("Tak, poprowadzę")
    [thanks] = await anna.press("Nie")
    assert said("survey.leader_invitation") not in thanks.text
    assert said("menu.propose") not in labels([thanks])
