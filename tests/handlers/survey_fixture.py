"""A small survey with every question type, for flow tests."""

from __future__ import annotations

from datetime import UTC, datetime

from handlers.core.forms import Survey

SAMPLE = {
    "slug": "probna",
    "title": {"pl": "Ankieta próbna", "en": "Trial survey"},
    "intro": {"pl": "Kilka pytań na próbę.", "en": "A few trial questions."},
    "outro": {"pl": "Dziękujemy za udział w ankiecie!", "en": "Thank you for taking part!"},
    "anonymous": False,
    "responses": "one",
    "leaders": {
        "interest": "inicjatywa",
        "values": ["poprowadze"],
        "consent": "kontakt",
        "contact": ["telefon", "email"],
    },
    "questions": [
        {
            "id": "wiek",
            "type": "single",
            "text": {"pl": "Ile masz lat?", "en": "How old are you?"},
            "options": [
                {"id": "do18", "text": {"pl": "do 18", "en": "under 18"}},
                {"id": "19-64", "text": "19–64"},
                {"id": "65plus", "text": {"pl": "65 i więcej", "en": "65 or more"}},
            ],
        },
        {
            "id": "zainteresowania",
            "type": "multiple",
            "text": {"pl": "Co cię interesuje?", "en": "What are you interested in?"},
            "options": [
                {"id": "muzyka", "text": {"pl": "Muzyka", "en": "Music"}},
                {"id": "teatr", "text": {"pl": "Teatr", "en": "Theatre"}},
                {"id": "film", "text": {"pl": "Film", "en": "Film"}},
            ],
            "other": True,
            "max_choices": 2,
        },
        {
            "id": "ocena",
            "type": "scale",
            "text": {"pl": "Jak oceniasz ośrodek?", "en": "Rating?"},
            "scale": {
                "min": 1,
                "max": 5,
                "min_label": {"pl": "źle", "en": "bad"},
                "max_label": {"pl": "świetnie", "en": "great"},
            },
        },
        {
            "id": "atrakcyjnosc",
            "type": "matrix",
            "text": {"pl": "Jak atrakcyjne są te formy?", "en": "How attractive are these?"},
            "scale": {"min": 1, "max": 5},
            "items": [
                {"id": "koncerty", "text": {"pl": "Koncerty", "en": "Concerts"}},
                {"id": "warsztaty", "text": {"pl": "Warsztaty", "en": "Workshops"}},
            ],
        },
        {
            "id": "ile_razy",
            "type": "number",
            "text": {"pl": "Ile razy byłeś/aś?", "en": "Times?"},
            "min": 0,
            "max": 100,
        },
        {
            "id": "pomysl",
            "type": "text",
            "optional": True,
            "max_length": 200,
            "text": {"pl": "Twój pomysł?", "en": "Your idea?"},
        },
        {
            "id": "data",
            "type": "date",
            "optional": True,
            "text": {"pl": "Kiedy najlepiej?", "en": "When is best?"},
        },
        {
            "id": "inicjatywa",
            "type": "single",
            "text": {"pl": "Czy poprowadzisz inicjatywę?", "en": "Would you lead?"},
            "options": [
                {"id": "poprowadze", "text": {"pl": "Tak, poprowadzę", "en": "Yes, lead"}},
                {"id": "nie", "text": {"pl": "Nie teraz", "en": "Not now"}},
            ],
        },
        {
            "id": "kontakt",
            "type": "yesno",
            "show_if": {"question": "inicjatywa", "equals": "poprowadze"},
            "text": {"pl": "Czy możemy się odezwać?", "en": "May we contact you?"},
        },
        {
            "id": "telefon",
            "type": "phone",
            "optional": True,
            "show_if": {"question": "kontakt", "equals": True},
            "text": {"pl": "Telefon?", "en": "Phone?"},
        },
        {
            "id": "email",
            "type": "email",
            "optional": True,
            "show_if": {"question": "kontakt", "equals": True},
            "text": {"pl": "E-mail?", "en": "E-mail?"},
        },
    ],
}


def sample_survey(**changes: object) -> Survey:
    return Survey.model_validate({**SAMPLE, **changes})


OPENED = datetime(2026, 1, 1, tzinfo=UTC)
