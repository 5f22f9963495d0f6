"""A typed "tak" / "nie" works wherever yes/no buttons are shown, and nowhere else."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from handlers.core.i18n import Translator
from handlers.core.typed_yesno import language_of, meaning
from storage import surveys
from storage.models import Resident
from tests.conftest import CONTENT
from tests.handlers.survey_fixture import sample_survey
from tests.harness import ChatHarness, Person, said, texts

TWO_QUESTIONS = [
    {"id": "kontakt", "type": "yesno", "text": {"pl": "Czy możemy się odezwać?", "en": "May we?"}},
    {"id": "uwagi", "type": "text", "text": {"pl": "Twoje uwagi?", "en": "Remarks?"}},
]


@pytest.fixture
def translator() -> Translator:
    return Translator(CONTENT / "locales", "pl")


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("tak", "yes"),
        ("Tak!", "yes"),
        ("  TAK. ", "yes"),
        ("nie", "no"),
        ("Nie…", "no"),
        ("yes", "yes"),
        ("No", "no"),
        # Single letters, phrases and other words are not answers: a slip of the
        # finger must not confirm an erasure.
        ("t", None),
        ("n", None),
        ("tak tak", None),
        ("chyba tak", None),
        ("", None),
        (None, None),
    ],
)
def test_meaning_of_typed_words(translator: Translator, typed: str | None, meant: str) -> None:
    assert meaning(translator, typed) == meant


def test_language_of_a_typed_word(translator: Translator) -> None:
    assert language_of(translator, "Yes!") == "en"
    assert language_of(translator, "nie") == "pl"
    assert language_of(translator, "może") is None


async def consented(harness: ChatHarness, user_id: int) -> Person:
    person = harness.person(user_id)
    await person.send("/start")
    await person.press(said("start.consent_yes"))
    await person.press(said("news.no"))
    return person


async def test_typed_no_under_the_forget_question_keeps_everything(harness: ChatHarness) -> None:
    person = await consented(harness, 301)
    await person.send("/forget")
    assert texts(await person.send("nie")) == said("forget.kept")
    async with harness.service.store.transaction() as session:
        [resident] = list(await session.scalars(select(Resident)))
    assert resident.has_consent


async def test_typed_yes_under_the_forget_question_erases(harness: ChatHarness) -> None:
    person = await consented(harness, 302)
    await person.send("/forget")
    assert said("forget.done") in texts(await person.send("Tak"))
    async with harness.service.store.transaction() as session:
        [resident] = list(await session.scalars(select(Resident)))
    assert not resident.has_consent


async def test_typed_yes_answers_a_yesno_survey_question_and_nie_is_text_afterwards(
    harness: ChatHarness,
) -> None:
    survey = sample_survey(leaders=None, questions=TWO_QUESTIONS)
    harness.service.services.surveys = {survey.slug: survey}
    person = await consented(harness, 303)
    await person.send("/survey")
    asked = await person.send("tak")
    assert "Twoje uwagi?" in texts(asked)
    # The text question shows no yes/no: a typed "nie" is the answer itself.
    await person.send("nie")
    async with harness.service.store.transaction() as session:
        [response] = await surveys.all_responses(session, survey.slug)
    assert response.answers == {"kontakt": True, "uwagi": "nie"}


async def test_typed_yes_with_no_yes_no_on_screen_is_not_understood(harness: ChatHarness) -> None:
    person = await consented(harness, 304)
    await person.send("/help")
    assert said("input.not_understood") in texts(await person.send("tak"))
