"""Result charts: valid PNGs, phone-width, readable, fast, none for text answers."""

from __future__ import annotations

import struct
import time
import warnings
from io import BytesIO
from typing import Any

from matplotlib.image import imread

from handlers.core.forms import Survey
from handlers.core.i18n import Translator
from handlers.surveys import charts
from handlers.surveys.charts import chart_png
from handlers.surveys.results import summarise
from storage.surveys import StoredResponse
from tests.handlers.surveys.answered_survey import build_survey

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHARTED = ["often", "interests", "offer", "grid", "lead", "contact_ok"]


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which always comes first."""
    assert data[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", data[8:16])
    assert (length, kind) == (13, b"IHDR")
    return struct.unpack(">II", data[16:24])


def all_charts(survey: Survey, responses: list[StoredResponse], translator: Translator, **kw: Any):
    summaries = summarise(survey, responses, language=kw.get("language", "pl"))
    return {
        q.id: chart_png(q, s, language=kw.get("language", "pl"), translator=translator)
        for q, s in zip(survey.questions, summaries, strict=True)
    }


async def test_choice_scale_matrix_and_yesno_charts_are_phone_wide_pngs(
    answered: Any, translator: Translator, tmp_path: Any
) -> None:
    survey, responses = answered
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        images = all_charts(survey, responses, translator)
    assert not [w for w in caught if "Glyph" in str(w.message)]  # Polish letters are in the font
    for question_id in CHARTED:
        data = images[question_id]
        assert data is not None, question_id
        width, height = png_size(data)
        assert width == 1080
        assert 300 < height < 2000
        pixels = imread(BytesIO(data))
        assert pixels.shape[:2] == (height, width)
        assert pixels.min() < 0.3  # there is ink on it, not a blank image


async def test_text_like_and_number_questions_have_no_chart(
    answered: Any, translator: Translator
) -> None:
    survey, responses = answered
    images = all_charts(survey, responses, translator)
    assert {k for k, v in images.items() if v is None} == {
        "idea",
        "hours",
        "email",
        "phone",
        "visit",
    }


async def test_no_answers_no_chart(translator: Translator) -> None:
    survey = build_survey()
    images = all_charts(survey, [], translator)
    assert all(v is None for v in images.values())


async def test_more_options_make_a_taller_chart(answered: Any, translator: Translator) -> None:
    survey, responses = answered
    images = all_charts(survey, responses, translator)
    yesno = png_size(images["contact_ok"] or b"")[1]
    often = png_size(images["often"] or b"")[1]
    assert often > yesno  # four options against two


async def test_chart_in_english(answered: Any, translator: Translator) -> None:
    survey, responses = answered
    images = all_charts(survey, responses, translator, language="en")
    assert png_size(images["often"] or b"")[0] == 1080


async def test_charts_are_fast(answered: Any, translator: Translator) -> None:
    survey, responses = answered
    all_charts(survey, responses, translator)  # warm up fonts and caches
    started = time.perf_counter()
    rounds = 3
    for _ in range(rounds):
        all_charts(survey, responses, translator)
    per_chart = (time.perf_counter() - started) / (rounds * len(CHARTED))
    assert per_chart < 0.3


def test_long_labels_wrap_inside_the_image() -> None:
    text = (
        "Zajęcia dla seniorów w bibliotece, najlepiej przedpołudniami, bo wtedy "
        "łatwiej dojechać autobusem z Pomierzyna i Giżyna "
        "https://example.org/bardzo/dlugi/adres/ktory/nie/ma/spacji/wcale/i/musi/sie/zlamac"
    )
    for size, bold in ((charts.LABEL_SIZE, False), (charts.TITLE_SIZE, True)):
        lines = charts._wrap(text, size, charts.TEXT_WIDTH, bold=bold)
        assert len(lines) > 2
        assert " ".join(lines).replace(" ", "") == text.replace(" ", "")
        assert all(charts._width(line, size, bold) <= charts.TEXT_WIDTH for line in lines)


async def test_dollar_signs_and_long_texts_do_not_break_drawing(translator: Translator) -> None:
    survey = Survey.model_validate(
        {
            "slug": "koszt",
            "title": "Koszt",
            "intro": "…",
            "outro": "…",
            "questions": [
                {
                    "id": "price",
                    "type": "single",
                    "text": "Ile zapłacisz za bilet? " * 8,
                    "options": [
                        {"id": "low", "text": "Do $5 (albo $10)"},
                        {"id": "high", "text": "Więcej " * 30},
                    ],
                }
            ],
        }
    )
    answers = [{"price": {"choice": "low"}}, {"price": {"choice": "high"}}]
    responses = [
        StoredResponse(n, "koszt", None, None, None, "finished", "pl", "telegram", None, None, a)
        for n, a in enumerate(answers)
    ]
    [image] = all_charts(survey, responses, translator).values()
    assert image is not None and png_size(image)[0] == 1080


async def test_eleven_point_scale(translator: Translator) -> None:
    survey = Survey.model_validate(
        {
            "slug": "nps",
            "title": "NPS",
            "intro": "…",
            "outro": "…",
            "questions": [
                {
                    "id": "recommend",
                    "type": "scale",
                    "text": "Czy polecisz nasz ośrodek znajomym?",
                    "scale": {
                        "min": 0,
                        "max": 10,
                        "min_label": "Na pewno nie",
                        "max_label": "Na pewno tak, bez wahania",
                    },
                }
            ],
        }
    )
    responses = [
        StoredResponse(
            n,
            "nps",
            None,
            None,
            None,
            "finished",
            "pl",
            "telegram",
            None,
            None,
            {"recommend": n % 11},
        )
        for n in range(40)
    ]
    [image] = all_charts(survey, responses, translator).values()
    assert image is not None and png_size(image)[0] == 1080
