"""Survey results as the coordinator reads them: counts, percentages, means, texts.

The survey and answers are `answered_survey`'s (the `answered` fixture in
conftest.py); the leaders have their own module, test_results_leaders.py.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from handlers.core.i18n import Translator
from handlers.surveys.results import QuestionSummary, overview, summarise
from handlers.surveys.results_text import (
    bar,
    question_summary_text,
    short_summary,
    summary_text,
)
from storage.surveys import StoredResponse
from tests.handlers.surveys.answered_survey import FORMULA, build_survey


def by_id(summaries: list[QuestionSummary]) -> dict[str, QuestionSummary]:
    return {s.id: s for s in summaries}


def counts(summary: QuestionSummary) -> dict[str, tuple[int, int]]:
    """Option id -> (count, rounded percent)."""
    return {c.id: (c.count, round(c.percent)) for c in summary.counts}


async def test_overview_counts_started_and_finished(answered: Any) -> None:
    _, responses = answered
    result = overview(responses)
    assert (result.started, result.finished, result.unfinished) == (4, 3, 1)


async def test_single_choice_counts_percent_of_those_who_answered(answered: Any) -> None:
    survey, responses = answered
    often = by_id(summarise(survey, responses, language="pl"))["often"]
    assert (often.answered, often.skipped) == (4, 0)
    assert list(counts(often).items()) == [
        ("week", (2, 50)),
        ("month", (1, 25)),
        ("never", (0, 0)),
        ("other", (1, 25)),
    ]
    assert [c.label for c in often.counts] == ["Raz w tygodniu", "Raz w miesiącu", "Rzadziej", None]
    assert often.other_texts == ["Raz w roku, na dożynkach"]


async def test_unfinished_answers_count_too(answered: Any) -> None:
    survey, responses = answered
    finished_only = [r for r in responses if r.status == "finished"]
    often = by_id(summarise(survey, finished_only, language="pl"))["often"]
    assert counts(often)["month"] == (0, 0)  # only Celina, who did not finish, chose it
    assert counts(by_id(summarise(survey, responses, language="pl"))["often"])["month"][0] == 1


async def test_multiple_choice_percentages_may_add_up_over_100(answered: Any) -> None:
    survey, responses = answered
    interests = by_id(summarise(survey, responses, language="pl"))["interests"]
    assert counts(interests) == {
        "music": (3, 75),
        "theatre": (2, 50),
        "crafts": (1, 25),
        "other": (1, 25),
    }
    assert interests.other_texts == ["Szachy"]
    assert sum(c.percent for c in interests.counts) == 175


async def test_scale_distribution_mean_and_median(answered: Any) -> None:
    survey, responses = answered
    offer = by_id(summarise(survey, responses, language="pl"))["offer"]
    assert offer.stats is not None
    assert (offer.stats.mean, offer.stats.median) == (3.75, 4)
    assert counts(offer) == {"1": (0, 0), "2": (1, 25), "3": (0, 0), "4": (2, 50), "5": (1, 25)}


async def test_matrix_mean_per_item(answered: Any) -> None:
    survey, responses = answered
    grid = by_id(summarise(survey, responses, language="pl"))["grid"]
    cinema, dance = grid.items
    assert (cinema.text, cinema.answered, cinema.mean, cinema.median) == ("Kino plenerowe", 4, 4, 4)
    assert (dance.text, dance.answered, dance.mean) == ("Zajęcia taneczne", 3, 3)
    assert [c.count for c in dance.distribution] == [0, 1, 1, 1, 0]


async def test_number_yesno_and_text_like(answered: Any) -> None:
    survey, responses = answered
    summaries = by_id(summarise(survey, responses, language="pl"))
    hours = summaries["hours"].stats
    assert hours is not None
    assert (hours.count, hours.mean, hours.median, hours.minimum, hours.maximum) == (
        3,
        5.5,
        4,
        2.5,
        10,
    )
    assert counts(summaries["contact_ok"]) == {"yes": (2, 67), "no": (1, 33)}
    idea = summaries["idea"]
    assert (idea.answered, idea.skipped) == (2, 1)
    assert idea.answers == ["Więcej koncertów w parku,\nnajlepiej latem", FORMULA]
    # Not shown to Bartek (no consent) and never reached by Celina: neither answered nor skipped.
    email = summaries["email"]
    assert (email.answered, email.skipped, email.answers) == (
        2,
        0,
        ["anna@example.pl", "darek@example.pl"],
    )
    assert summaries["visit"].answers == ["2025-03-01", "2025-02-14"]


def test_options_removed_from_content_still_count() -> None:
    survey = build_survey()
    stale = StoredResponse(
        id=1,
        survey=survey.slug,
        resident_id=None,
        resident_name=None,
        telegram_id=None,
        status="finished",
        language="pl",
        channel="telegram",
        started_at=None,
        finished_at=None,
        answers={"often": {"choice": "daily"}, "offer": 9, "hours": "oops"},
    )
    summaries = by_id(summarise(survey, [stale], language="pl"))
    assert counts(summaries["often"])["daily"] == (1, 100)
    assert counts(summaries["offer"])["9"] == (1, 100)
    assert summaries["hours"].answered == 1 and summaries["hours"].stats is None


async def test_summary_text_is_plain_and_polish(answered: Any, translator: Translator) -> None:
    survey, responses = answered
    summaries = summarise(survey, responses, language="pl")
    text = summary_text(survey, overview(responses), summaries, translator, "pl")
    assert "Wyniki ankiety „Diagnoza potrzeb kulturalnych”" in text
    assert "Rozpoczęte: 4, w tym ukończone: 3, nieukończone: 1." in text
    assert "1. Jak często bywasz w ośrodku?\nOdpowiedzi: 4, pominięte: 0" in text
    assert "Raz w tygodniu\n█████░░░░░ 2 (50%)" in text
    assert "Inne\n███░░░░░░░ 1 (25%)" in text
    assert "Wpisane w „Inne”:\n• Raz w roku, na dożynkach" in text
    assert "Średnia: 3,75, mediana: 4" in text
    assert "Kino plenerowe\nŚrednia 4 (odpowiedzi: 4)" in text
    assert "Średnia: 5,5, mediana: 4, najmniej: 2,5, najwięcej: 10" in text
    assert "Tak\n███████░░░ 2 (67%)" in text
    assert "• Więcej koncertów w parku, najlepiej latem" in text
    assert "*" not in text and "_" not in text  # nothing Telegram could take for Markdown


async def test_summary_text_in_english(answered: Any, translator: Translator) -> None:
    survey, responses = answered
    summaries = by_id(summarise(survey, responses, language="en"))
    text = question_summary_text(summaries["often"], translator, "en", number=1)
    assert text.startswith("1. How often?\nAnswered: 4, skipped: 0\nWeekly\n")
    assert "Other\n" in text
    assert "Mean: 5.5" in question_summary_text(summaries["hours"], translator, "en")


def test_bar_is_ten_blocks() -> None:
    assert bar(0) == "░" * 10
    assert bar(40) == "████░░░░░░"
    assert bar(100) == "█" * 10
    assert bar(120) == "█" * 10


def test_many_long_answers_are_cut_and_the_summary_stays_one_short_message(
    translator: Translator,
) -> None:
    survey = build_survey()
    many = [
        StoredResponse(
            id=n,
            survey=survey.slug,
            resident_id=n,
            resident_name=None,
            telegram_id=None,
            status="finished",
            language="pl",
            channel="telegram",
            started_at=None,
            finished_at=None,
            answers={"idea": f"Odpowiedź {n}: " + "bardzo długa myśl " * 40, "offer": 3},
        )
        for n in range(1, 60)
    ]
    summaries = summarise(survey, many, language="pl")
    idea = question_summary_text(by_id(summaries)["idea"], translator, "pl")
    assert "Odpowiedź 59" in idea and "Odpowiedź 49:" not in idea
    assert "…i jeszcze 49 – wszystkie są w eksporcie." in idea
    summary = short_summary(
        survey, overview(many), summaries, translator, "pl", UTC, open_answers=True
    )
    # The answers are in the report file, not in the message a phone shows.
    assert "Odpowiedź" not in summary and len(summary) < 1000


async def test_scale_text_is_one_line_per_point(answered: Any, translator: Translator) -> None:
    survey, responses = answered
    offer = by_id(summarise(survey, responses, language="pl"))["offer"]
    text = question_summary_text(offer, translator, "pl")
    assert text.splitlines()[2:] == [
        "Średnia: 3,75, mediana: 4",
        "1 = Źle, 5 = Świetnie",
        "1 ░░░░░░░░░░ 0 (0%)",
        "2 ███░░░░░░░ 1 (25%)",
        "3 ░░░░░░░░░░ 0 (0%)",
        "4 █████░░░░░ 2 (50%)",
        "5 ███░░░░░░░ 1 (25%)",
    ]
