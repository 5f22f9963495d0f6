"""Survey results: the leaders, residents willing to act who agreed to be contacted."""

from __future__ import annotations

from typing import Any

from handlers.core.forms import Survey
from handlers.core.i18n import Translator
from handlers.surveys.parts import contact_part
from handlers.surveys.results import leaders, load_results, volunteers
from handlers.surveys.results_text import leaders_text
from storage import survey_privacy
from storage.db import Store
from tests.handlers.surveys.answered_survey import build_survey, fill


async def test_leaders_are_only_consenting_volunteers(answered: Any) -> None:
    survey, responses = answered
    found = leaders(survey, responses, language="pl")
    assert len(found) == 2
    anna, darek = found
    assert (anna.name, anna.interest) == ("Anna", ["Tak, poprowadzę"])
    assert anna.contact == {"email": "anna@example.pl", "phone": "+48 600 100 200"}
    # Darek erased his data: only the contact he typed in remains.
    assert (darek.resident_id, darek.name) == (None, None)
    assert darek.interest == ["Chętnie dołączę"]
    assert darek.contact == {"email": "darek@example.pl"}
    # Bartek would join but said no to contact; Celina never got that far.
    assert all(v.name not in ("Bartek", "Celina") for v in found)


async def test_leaders_of_anonymous_survey_come_from_contact_records(sqlite_url: str) -> None:
    survey = build_survey(anonymous=True)
    await fill(sqlite_url, survey)
    store = Store(sqlite_url)
    try:
        async with store.transaction() as session:
            await survey_privacy.seal_finished(session, contact_part(survey))
        async with store.transaction() as session:
            found = await volunteers(session, survey)
            answers = await load_results(session, survey)
    finally:
        await store.close()
    # Anna agreed and finished: her contact record, without her Telegram name or id.
    [anna] = found
    assert anna.name is None and anna.contact == {
        "email": "anna@example.pl",
        "phone": "+48 600 100 200",
    }
    # The answers kept no contact and no link to anyone once finished.
    assert all("email" not in r.answers and "contact_ok" not in r.answers for r in answers)
    assert all(r.resident_id is None for r in answers if r.status == "finished")


async def test_leaders_text(answered: Any, translator: Translator) -> None:
    survey, responses = answered
    text = leaders_text(survey, leaders(survey, responses), translator, "pl")
    assert text.startswith("Osoby chętne do działania, które zgodziły się na kontakt: 2")
    assert "Anna\nTak, poprowadzę" in text and "555001" not in text
    assert "Twój e-mail: anna@example.pl" in text
    assert "Ta osoba usunęła swoje dane" in text and "darek@example.pl" in text
    assert leaders_text(survey, [], translator, "en").startswith("So far nobody")


def test_no_leaders_rule_means_no_volunteers() -> None:
    data = build_survey().model_dump(by_alias=True, exclude_none=True)
    data["leaders"] = None
    assert leaders(Survey.model_validate(data), []) == []
