"""Onboarding: the short first screen, typed consent, and the main menu after it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from handlers.core.events import Reply
from storage.models import Resident
from tests.handlers.contest_fixture import sample_contest
from tests.handlers.survey_fixture import sample_survey
from tests.harness import ChatHarness, Person, said, texts

FIRST_SCREEN_LIMIT = 600
ONE_QUESTION = {"id": "zgoda", "type": "yesno", "text": {"pl": "Czy wszystko jasne?", "en": "?"}}


def labels(replies: list[Reply]) -> list[str]:
    return [b.label for r in replies for row in r.buttons for b in row]


async def residents(harness: ChatHarness) -> list[Resident]:
    async with harness.service.store.transaction() as session:
        return list(await session.scalars(select(Resident)))


async def consented(harness: ChatHarness, user_id: int) -> Person:
    person = harness.person(user_id)
    await person.send("/start")
    await person.press(said("start.consent_yes"))
    return person


@pytest.fixture
def open_harness(harness: ChatHarness) -> ChatHarness:
    """A survey and a call for proposals, both open."""
    services = harness.service.services
    services.surveys = {"probna": sample_survey()}
    services.contest = sample_contest()
    services.clock = lambda: datetime(2030, 5, 20, 10, 0, tzinfo=UTC)
    return harness


# --- the first screen -----------------------------------------------------------------


@pytest.mark.parametrize("language", ["pl", "en"])
async def test_first_screen_is_one_short_message_with_the_essentials(
    harness: ChatHarness, language: str
) -> None:
    person = harness.person(201, language_hint=language)
    [screen] = await person.send("/start")
    assert len(screen.text) < FIRST_SCREEN_LIMIT
    centre = harness.service.services.centre
    # Who the controller is, what for, how to withdraw, where to read more.
    assert centre.name in screen.text
    assert centre.programme.get(language) in screen.text
    assert "/forget" in screen.text
    assert said("start.full_clause", language) in screen.text
    assert labels([screen]) == [
        said("start.consent_yes", language),
        said("start.consent_no", language),
        said("start.full_clause", language),
    ]
    assert await residents(harness) == []


async def test_full_clause_button_shows_the_clause_from_the_centre_and_asks_again(
    harness: ChatHarness,
) -> None:
    person = harness.person(202)
    await person.send("/start")
    [clause] = await person.press(said("start.full_clause"))
    centre = harness.service.services.centre
    for detail in (centre.address, centre.email, centre.data_protection_officer):
        assert detail in clause.text
    assert said("start.consent_question") in clause.text
    assert labels([clause]) == [said("start.consent_yes"), said("start.consent_no")]
    assert await residents(harness) == []
    await person.press(said("start.consent_yes"))
    assert len(await residents(harness)) == 1


# --- typed yes / no for consent --------------------------------------------------------


@pytest.mark.parametrize("typed", ["tak", "Tak!", " TAK. ", "yes"])
async def test_typed_yes_under_the_consent_question_agrees(
    harness: ChatHarness, typed: str
) -> None:
    person = harness.person(203, name="Ola")
    await person.send("/start")
    replies = await person.send(typed)
    assert said("start.thanks") in texts(replies)
    [resident] = await residents(harness)
    assert resident.has_consent and resident.name == "Ola"


async def test_typed_no_under_the_consent_question_stores_nothing(harness: ChatHarness) -> None:
    person = harness.person(204)
    await person.send("/start")
    assert texts(await person.send("Nie")) == said("start.consent_declined")
    assert await residents(harness) == []


async def test_typed_yes_without_having_seen_the_notice_shows_it_first(
    harness: ChatHarness,
) -> None:
    person = harness.person(205)
    [screen] = await person.send("tak")
    assert harness.service.services.centre.name in screen.text
    assert said("start.full_clause") in labels([screen])
    assert await residents(harness) == []


async def test_typed_yes_after_choosing_english_agrees_in_english(harness: ChatHarness) -> None:
    person = harness.person(206, language_hint="pl")
    await person.send("/language")
    await person.press("English")
    assert said("start.thanks", "en") in texts(await person.send("yes"))
    [resident] = await residents(harness)
    assert resident.language == "en"


# --- the main menu ---------------------------------------------------------------------


async def test_after_the_news_answer_the_main_menu_offers_what_is_open(
    open_harness: ChatHarness,
) -> None:
    person = open_harness.person(210)
    await person.send("/start")
    await person.press(said("start.consent_yes"))
    replies = await person.press(said("news.no"))
    assert labels(replies) == [
        said("menu.survey"),
        said("menu.propose"),
        said("menu.ask"),
        said("menu.news_on"),
    ]


async def test_typed_yes_answers_the_news_offer_and_the_menu_follows(
    open_harness: ChatHarness,
) -> None:
    person = open_harness.person(211)
    await person.send("/start")
    await person.send("tak")
    replies = await person.send("tak")
    assert said("news.on") in texts(replies)
    [resident] = await residents(open_harness)
    assert resident.subscribed
    assert said("menu.news_off") in labels(replies)


async def test_menu_leaves_out_what_is_closed(harness: ChatHarness) -> None:
    # No open survey, no contest: asking and the news remain.
    harness.service.services.surveys = {}
    harness.service.services.contest = None
    person = await consented(harness, 212)
    assert labels(await person.send("/menu")) == [said("menu.ask"), said("menu.news_on")]


async def test_menu_leaves_out_a_survey_already_taken(open_harness: ChatHarness) -> None:
    survey = sample_survey(leaders=None, questions=[ONE_QUESTION])
    open_harness.service.services.surveys = {survey.slug: survey}
    person = await consented(open_harness, 218)
    assert said("menu.survey") in labels(await person.send("/menu"))
    await person.send("/survey")
    done = await person.press("Tak")
    assert said("menu.survey") not in labels(done)
    assert said("menu.propose") in labels(done)


async def test_menu_buttons_run_their_commands(open_harness: ChatHarness) -> None:
    person = await consented(open_harness, 213)
    await person.send("/menu")
    survey = await person.press(said("menu.survey"))
    assert "Ankieta próbna" in texts(survey)
    await person.send("/cancel")
    await person.press(said("menu.news_on"))
    [resident] = await residents(open_harness)
    assert resident.subscribed


async def test_menu_follows_a_cancelled_flow_and_a_sent_question(
    open_harness: ChatHarness,
) -> None:
    person = await consented(open_harness, 214)
    await person.send("/survey")
    cancelled = await person.send("/cancel")
    assert said("survey.cancelled") in texts(cancelled)
    assert said("menu.ask") in labels(cancelled)
    await person.press(said("menu.ask"))
    sent = await person.send("Kiedy będą zajęcia teatralne?")
    assert said("menu.survey") in labels(sent)


async def test_not_understood_and_nothing_to_cancel_offer_the_menu(harness: ChatHarness) -> None:
    person = await consented(harness, 215)
    puzzled = await person.send("abrakadabra")
    assert said("input.not_understood") in texts(puzzled)
    assert said("menu.ask") in labels(puzzled)
    assert said("menu.ask") in labels(await person.send("/cancel"))


async def test_welcome_back_offers_the_menu(harness: ChatHarness) -> None:
    person = await consented(harness, 216)
    assert said("menu.ask") in labels(await person.send("/start"))


async def test_no_menu_before_consent(harness: ChatHarness) -> None:
    person = harness.person(217)
    replies = await person.send("abrakadabra")
    assert texts(replies) == said("input.start_first")
    assert labels(replies) == []
