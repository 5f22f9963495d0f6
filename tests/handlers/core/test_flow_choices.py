"""The step engine's new rules: exclusive options, typed numbers and grids, matrices
rated after attendance, and a progress counter that never falls back."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from handlers.core import flow
from handlers.core.flow import InvalidAnswer
from handlers.core.forms import Question
from handlers.surveys.files import load_survey_file
from tests.handlers.survey_fixture import sample_survey

DIAGNOSIS = Path(__file__).resolve().parents[3] / "content" / "surveys" / "diagnoza-2021.yaml"


@pytest.fixture(scope="module")
def diagnosis() -> list[Question]:
    return load_survey_file(DIAGNOSIS, ZoneInfo("Europe/Warsaw")).questions


def by_id(questions: list[Question], question_id: str) -> Question:
    return next(q for q in questions if q.id == question_id)


def test_exclusive_option_clears_the_others_and_any_other_clears_it(
    diagnosis: list[Question],
) -> None:
    attended = by_id(diagnosis, "udzial")
    chosen = flow.toggle(attended, [], "koncerty")
    chosen = flow.toggle(attended, chosen, "wystawy")
    assert chosen == ["koncerty", "wystawy"]
    assert flow.toggle(attended, chosen, "zadne") == ["zadne"]
    assert flow.toggle(attended, ["zadne"], "festyny") == ["festyny"]


def test_typed_numbers_choose_options_and_bad_ones_say_why(diagnosis: list[Question]) -> None:
    attended = by_id(diagnosis, "udzial")
    assert flow.parse_numbers(attended, "1, 3 5") == ["koncerty", "wystawy", "zajecia-taneczne"]
    with pytest.raises(InvalidAnswer) as error:
        flow.check_multiple(attended, flow.parse_numbers(attended, "1, 9"))
    assert (error.value.key, error.value.values) == ("flow.invalid.exclusive", {"number": 9})
    for bad in ("12", "jeden", "", "0"):
        with pytest.raises(InvalidAnswer) as error:
            flow.parse_numbers(attended, bad)
        assert error.value.key == "flow.invalid.numbers"
    age = by_id(diagnosis, "wiek")
    assert flow.parse_numbers(age, "2") == ["18-29"]
    with pytest.raises(InvalidAnswer) as error:
        flow.parse_numbers(age, "2, 3")
    assert error.value.key == "flow.invalid.one_number"


def test_too_few_and_too_many_speak_of_one_answer_in_the_singular() -> None:
    interests = by_id(sample_survey().questions, "zainteresowania")
    with pytest.raises(InvalidAnswer) as error:
        flow.check_multiple(interests, [])
    assert error.value.key == "flow.invalid.too_few_one"


def test_typed_grid_needs_one_rating_per_row_and_knows_hard_to_say(
    diagnosis: list[Question],
) -> None:
    new = by_id(diagnosis, "formy-nowe")
    items = flow.shown_items(new, {})
    rows = flow.parse_grid(new, items, "5 4 3 ? 2 1 5 x")
    assert list(rows) == [item.id for item in new.items]
    assert rows["teatr-mlodziezowy"] is None and rows["warsztaty-foto"] is None
    assert rows["gry-planszowe"] == 4 and rows["dkf"] == 2
    with pytest.raises(InvalidAnswer) as error:
        flow.parse_grid(new, items, "5 4 3")
    assert error.value.values == {"count": 8, "given": 3}
    with pytest.raises(InvalidAnswer) as error:
        flow.parse_grid(new, items, "5 4 3 6 2 1 5 5")
    assert error.value.key == "flow.invalid.grid_value_dk" and error.value.values["value"] == "6"


def test_matrix_rates_only_what_was_attended_and_none_skips_it(
    diagnosis: list[Question],
) -> None:
    current = by_id(diagnosis, "formy-obecne")
    answers = {"udzial": {"choices": ["koncerty", "festyny"]}}
    assert [i.id for i in flow.shown_items(current, answers)] == ["koncerty", "festyny"]
    assert current in flow.visible(diagnosis, answers)
    assert current not in flow.visible(diagnosis, {"udzial": {"choices": ["zadne"]}})
    # Attendance changed after rating: the ratings no longer fit and are asked again.
    rated = {**answers, "formy-obecne": {"koncerty": 4, "festyny": 5}}
    assert flow.hidden_answers(diagnosis, rated) == []
    changed = {**rated, "udzial": {"choices": ["koncerty"]}}
    assert flow.hidden_answers(diagnosis, changed) == ["formy-obecne"]


def ordinary_answer(question: Question, answers: dict) -> object:
    if question.type.value == "single":
        return {"choice": question.options[0].id}
    if question.type.value == "multiple":
        return {"choices": [question.options[-1].id]}
    if question.type.value == "matrix":
        return {item.id: 3 for item in flow.shown_items(question, answers)}
    if question.type.value == "yesno":
        return True
    return 3 if question.type.value == "scale" else "tekst"


@pytest.mark.parametrize("leader", [True, False])
def test_progress_number_never_falls_back_and_total_never_grows(
    diagnosis: list[Question], leader: bool
) -> None:
    answers: dict = {}
    seen = []
    while (question := flow.next_unanswered(diagnosis, answers)) is not None:
        seen.append(flow.progress(diagnosis, answers, question.id))
        value = ordinary_answer(question, answers)
        if question.id == "inicjatywa" and not leader:
            value = {"choice": "nie-teraz"}
        answers[question.id] = value
    numbers = [p.number for p in seen]
    totals = [p.total for p in seen]
    assert numbers == list(range(1, len(seen) + 1))
    assert totals == sorted(totals, reverse=True)
    # "None of them" attended (the last option) leaves the rating out: 16 of 17 at most;
    # "not now" rules out the four contact questions only once it is given.
    assert totals[0] == 17 and totals[-1] == 16
    assert len(seen) == (16 if leader else 12)
