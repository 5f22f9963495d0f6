"""Survey files: the surveys shipped in content/surveys load, in Polish and English."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from handlers.core.forms import QuestionType, Survey, Text
from handlers.surveys.files import check_survey_file, load_survey_file, load_surveys
from tests.handlers.surveys.survey_file import SURVEYS, WARSAW


def all_texts(survey: Survey) -> list[Text]:
    texts = [survey.title, survey.intro, survey.outro]
    for question in survey.questions:
        texts += [question.text, *([question.help] if question.help else [])]
        texts += [option.text for option in [*question.options, *question.items]]
        if question.scale is not None:
            texts += [t for t in (question.scale.min_label, question.scale.max_label) if t]
    return texts


@pytest.mark.parametrize("name", ["diagnoza-2021", "ewaluacja"])
def test_shipped_survey_loads_with_every_text_in_polish_and_english(name: str) -> None:
    path = SURVEYS / f"{name}.yaml"
    assert check_survey_file(path, WARSAW) == []
    survey = load_survey_file(path, WARSAW)
    assert survey.slug == name
    assert survey.languages == ["pl", "en"]
    for text in all_texts(survey):
        assert text.get("pl").strip() and text.get("en").strip()
        # A mapping must carry both; a plain string is deliberately the same in both.
        assert text.languages() in (None, {"pl", "en"})
    polish = " ".join(question.text.get("pl") for question in survey.questions)
    assert any(letter in polish for letter in "ąęłńóśźż")


def test_load_surveys_shipped_directory_serves_both_without_problems() -> None:
    catalogue = load_surveys(SURVEYS, WARSAW)
    assert catalogue.problems == {}
    assert set(catalogue.surveys) >= {"diagnoza-2021", "ewaluacja"}


def test_diagnoza_dates_are_the_2021_spring_in_warsaw_time() -> None:
    survey = load_survey_file(SURVEYS / "diagnoza-2021.yaml", WARSAW)
    assert survey.anonymous is True
    assert survey.responses == "one"
    assert survey.opens == datetime(2021, 3, 1, 0, 0, tzinfo=WARSAW)
    assert survey.opens.astimezone(UTC) == datetime(2021, 2, 28, 23, 0, tzinfo=UTC)
    # Summer time by the end of April: 23:59 in Warsaw is 21:59 UTC.
    assert survey.closes is not None
    assert survey.closes.astimezone(UTC) == datetime(2021, 4, 30, 21, 59, tzinfo=UTC)


def test_diagnoza_leaders_ask_contact_only_after_consent() -> None:
    survey = load_survey_file(SURVEYS / "diagnoza-2021.yaml", WARSAW)
    leaders = survey.leaders
    assert leaders is not None
    interest = survey.question(leaders.interest)
    consent = survey.question(leaders.consent)
    assert interest is not None and interest.type is QuestionType.SINGLE
    assert consent is not None and consent.type is QuestionType.YESNO
    assert [c.question for c in consent.conditions] == [leaders.interest]
    assert set(leaders.values) <= {option.id for option in interest.options}
    assert leaders.contact == ["imie", "telefon", "email"]
    for question_id in leaders.contact:
        question = survey.question(question_id)
        assert question is not None
        assert [(c.question, c.equals) for c in question.conditions] == [(leaders.consent, True)]


def test_diagnoza_typical_path_has_14_to_18_questions() -> None:
    survey = load_survey_file(SURVEYS / "diagnoza-2021.yaml", WARSAW)
    asked_everyone = [q for q in survey.questions if not q.conditions]
    assert len(asked_everyone) >= 13
    assert len(survey.questions) <= 18
    interests = survey.question("zainteresowania")
    assert interests is not None and interests.other and interests.max_choices == 5


def test_ewaluacja_is_always_open_and_answerable_many_times() -> None:
    survey = load_survey_file(SURVEYS / "ewaluacja.yaml", WARSAW)
    assert survey.opens is None and survey.closes is None
    assert survey.anonymous is True
    assert survey.responses == "many"
    assert [q.id for q in survey.questions][0] == "ocena"
