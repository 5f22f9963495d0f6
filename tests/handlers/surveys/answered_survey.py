"""The answered survey the results, chart, export and report tests share.

A survey with every question type and four residents' answers in a real store:
Anna and Bartek finished, Celina stopped half way, Darek finished and then erased
his data. The directory's conftest.py serves it as the `answered` fixture.
"""

from __future__ import annotations

from typing import Any

from handlers.core.forms import Survey
from handlers.surveys.results import load_results
from storage import residents, surveys
from storage.db import Store
from storage.models import SurveyResponse
from storage.surveys import StoredResponse

FORMULA = '=HYPERLINK("http://zły.example","kliknij")'


def build_survey(*, anonymous: bool = False, slug: str = "diagnoza") -> Survey:
    return Survey.model_validate(
        {
            "slug": slug,
            "title": {"pl": "Diagnoza potrzeb kulturalnych", "en": "Cultural needs"},
            "intro": "…",
            "outro": "…",
            "anonymous": anonymous,
            "leaders": {
                "interest": "lead",
                "values": ["lead", "join"],
                "consent": "contact_ok",
                "contact": ["email", "phone"],
            },
            "questions": [
                {
                    "id": "often",
                    "type": "single",
                    "text": {"pl": "Jak często bywasz w ośrodku?", "en": "How often?"},
                    "options": [
                        {"id": "week", "text": {"pl": "Raz w tygodniu", "en": "Weekly"}},
                        {"id": "month", "text": {"pl": "Raz w miesiącu", "en": "Monthly"}},
                        {"id": "never", "text": {"pl": "Rzadziej", "en": "Less often"}},
                    ],
                    "other": True,
                    "optional": True,
                },
                {
                    "id": "interests",
                    "type": "multiple",
                    "text": "Co cię interesuje?",
                    "options": [
                        {"id": "music", "text": "Muzyka"},
                        {"id": "theatre", "text": "Teatr"},
                        {"id": "crafts", "text": "Rękodzieło"},
                    ],
                    "other": True,
                },
                {
                    "id": "offer",
                    "type": "scale",
                    "text": "Jak oceniasz ofertę ośrodka?",
                    "scale": {"min": 1, "max": 5, "min_label": "Źle", "max_label": "Świetnie"},
                },
                {
                    "id": "grid",
                    "type": "matrix",
                    "text": "Oceń zajęcia",
                    "scale": {"min": 1, "max": 5},
                    "items": [
                        {"id": "cinema", "text": "Kino plenerowe"},
                        {"id": "dance", "text": "Zajęcia taneczne"},
                    ],
                },
                {
                    "id": "idea",
                    "type": "text",
                    "text": "Czego brakuje ci w gminie?",
                    "optional": True,
                },
                {
                    "id": "hours",
                    "type": "number",
                    "text": "Ile godzin w tygodniu możesz poświęcić?",
                    "integer": False,
                },
                {
                    "id": "lead",
                    "type": "single",
                    "text": "Czy chcesz poprowadzić inicjatywę?",
                    "options": [
                        {"id": "lead", "text": "Tak, poprowadzę"},
                        {"id": "join", "text": "Chętnie dołączę"},
                        {"id": "no", "text": "Nie"},
                    ],
                },
                {"id": "contact_ok", "type": "yesno", "text": "Czy możemy się odezwać?"},
                {"id": "email", "type": "email", "text": "Twój e-mail", "optional": True},
                {"id": "phone", "type": "phone", "text": "Twój telefon", "optional": True},
                {"id": "visit", "type": "date", "text": "Kiedy byłeś u nas?", "optional": True},
            ],
        }
    )


# Anna and Bartek finished, Celina stopped half way, Darek finished and then
# erased his data (/forget cuts the link to the response).
PEOPLE: list[tuple[str, int, bool, dict[str, Any]]] = [
    (
        "Anna",
        555001,
        True,
        {
            "often": {"choice": "week"},
            "interests": {"choices": ["music", "crafts"]},
            "offer": 4,
            "grid": {"cinema": 5, "dance": 3},
            "idea": "Więcej koncertów w parku,\nnajlepiej latem",
            "hours": 2.5,
            "lead": {"choice": "lead"},
            "contact_ok": True,
            "email": "anna@example.pl",
            "phone": "+48 600 100 200",
            "visit": "2025-03-01",
        },
    ),
    (
        "Bartek",
        555002,
        True,
        {
            "often": {"choice": "other", "other": "Raz w roku, na dożynkach"},
            "interests": {"choices": ["theatre", "other"], "other": "Szachy"},
            "offer": 5,
            "grid": {"cinema": 4, "dance": 2},
            "idea": None,
            "hours": 4,
            "lead": {"choice": "join"},
            "contact_ok": False,
            "visit": None,
        },
    ),
    (
        "Celina",
        555003,
        False,
        {
            "often": {"choice": "month"},
            "interests": {"choices": ["music"]},
            "offer": 2,
            "grid": {"cinema": 4},
        },
    ),
    (
        "Darek",
        555004,
        True,
        {
            "often": {"choice": "week"},
            "interests": {"choices": ["music", "theatre"]},
            "offer": 4,
            "grid": {"cinema": 3, "dance": 4},
            "idea": FORMULA,
            "hours": 10,
            "lead": {"choice": "join"},
            "contact_ok": True,
            "email": "darek@example.pl",
            "phone": None,
            "visit": "2025-02-14",
        },
    ),
]


async def fill(url: str, survey: Survey) -> list[StoredResponse]:
    """Write the four residents' answers to a real store and read them back."""
    store = Store(url)
    try:
        async with store.transaction() as session:
            for name, telegram_id, finished, answers in PEOPLE:
                resident = await residents.create_with_consent(
                    session, telegram_id=telegram_id, name=name, language="pl"
                )
                response = await surveys.start_response(
                    session,
                    survey=survey.slug,
                    resident_id=resident.id,
                    language="pl",
                    channel="telegram",
                )
                for question, value in answers.items():
                    await surveys.save_answer(
                        session, response=response, question=question, value=value
                    )
                if finished:
                    await surveys.finish(session, response)
                if name == "Darek":
                    await residents.forget(session, resident)
                    stored = await session.get(SurveyResponse, response.id)
                    assert stored is not None
                    stored.resident_id = None
        async with store.transaction() as session:
            return await load_results(session, survey)
    finally:
        await store.close()
