"""A small contest for flow tests (the shipped content/contest.yaml is tested apart)."""

from __future__ import annotations

from datetime import UTC, datetime

from handlers.contest.model import Contest

CLOSES = datetime(2030, 6, 7, 21, 59, tzinfo=UTC)

SAMPLE = {
    "slug": "test-2030",
    "name": {"pl": "Konkurs próbny", "en": "Trial contest"},
    "intro": {"pl": "Zgłoś swój pomysł!", "en": "Propose your idea!"},
    "number_prefix": "KP-TEST",
    "budget_total": 30000,
    "cap_per_initiative": 10000,
    "winners": {"min": 3, "max": 7},
    "closes": CLOSES,
    "criteria": [
        {"id": "cele", "text": "Zgodność z celami", "weight": 2, "scale": {"min": 0, "max": 5}},
        {"id": "budzet", "text": "Realny budżet", "weight": 1, "scale": {"min": 0, "max": 5}},
    ],
    "form": [
        {
            "id": "typ",
            "type": "single",
            "text": {"pl": "Kto zgłasza?", "en": "Who applies?"},
            "options": [
                {"id": "osoba", "text": {"pl": "Osoba prywatna", "en": "A person"}},
                {"id": "grupa", "text": {"pl": "Grupa nieformalna", "en": "A group"}},
            ],
        },
        {
            "id": "wnioskodawca",
            "type": "text",
            "text": {"pl": "Imię i nazwisko lub nazwa grupy", "en": "Name"},
        },
        {"id": "email", "type": "email", "text": {"pl": "Adres e-mail", "en": "E-mail"}},
        {"id": "telefon", "type": "phone", "text": {"pl": "Telefon", "en": "Phone"}},
        {
            "id": "tytul",
            "type": "text",
            "max_length": 100,
            "text": {"pl": "Tytuł inicjatywy", "en": "Title"},
        },
        {"id": "opis", "type": "text", "text": {"pl": "Na czym polega?", "en": "What is it?"}},
        {
            "id": "liczba",
            "type": "number",
            "min": 1,
            "max": 10000,
            "text": {"pl": "Ile osób weźmie udział?", "en": "How many people?"},
        },
    ],
    "messages": {
        "submitted": {"pl": "Koordynator przeczyta je wkrótce.", "en": "We will read it soon."},
        "under_review": {"pl": "Oceniamy.", "en": "Under review."},
        "changes_requested": {"pl": "Prosimy o poprawki.", "en": "Please change it."},
        "accepted": {"pl": "Gratulacje!", "en": "Congratulations!"},
        "rejected": {"pl": "Niestety nie tym razem.", "en": "Not this time."},
        "withdrawn": {"pl": "Wycofane.", "en": "Withdrawn."},
    },
}


def sample_contest(**changes: object) -> Contest:
    return Contest.model_validate({**SAMPLE, **changes})
