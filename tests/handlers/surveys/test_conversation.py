"""Surveys in the terminal channel: every question type, back/skip/resume, bad answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from handlers.core.events import Reply
from storage import surveys
from storage.models import SurveyAnswer, SurveyResponse
from tests.handlers.survey_fixture import sample_survey
from tests.harness import ChatHarness, Person, said, texts


@pytest.fixture
def harness_with_survey(harness: ChatHarness) -> ChatHarness:
    harness.service.services.surveys = {"probna": sample_survey()}
    return harness


async def resident(harness: ChatHarness, user_id: int) -> Person:
    person = harness.person(user_id)
    await person.send("/start")
    await person.press("Tak, zgadzam")
    return person


async def responses(harness: ChatHarness) -> list[surveys.StoredResponse]:
    async with harness.service.store.transaction() as session:
        return await surveys.all_responses(session, "probna")


async def rate(person: Person, item: str, value: str) -> list[Reply]:
    """Press `value` in the row under the matrix item labelled `item` (latest message)."""
    grid = next(
        r for r in reversed(person.seen) if any(b.label == item for row in r.buttons for b in row)
    )
    label_row = next(k for k, row in enumerate(grid.buttons) if row[0].label == item)
    [cell] = [b for b in grid.buttons[label_row + 1] if b.label.replace("✅", "") == value]
    return await person.choose(cell.data)


async def answer_first_part(anna: Person) -> None:
    """Age, interests (with "other"), rating, the matrix, a number."""
    await anna.press("19–64")
    await anna.press("Muzyka")
    await anna.press("Inne")
    await anna.press("Gotowe")
    await anna.send("gra na bębnach")
    await anna.press("4")
    await rate(anna, "Koncerty", "5")
    await rate(anna, "Warsztaty", "2")
    await anna.press("Gotowe")
    await anna.send("12")


async def test_survey_full_pass_stores_every_answer_and_finishes(
    harness_with_survey: ChatHarness,
) -> None:
    anna = await resident(harness_with_survey, 501)
    first = await anna.send("/survey")
    assert "Ankieta próbna" in texts(first)
    assert "Pytanie 1 z" in texts(first)
    await answer_first_part(anna)
    await anna.send("Więcej koncertów w parku")
    await anna.send("15.05.2026")
    await anna.press("Tak, poprowadzę")
    await anna.press("Tak")
    await anna.send("600 123 456")
    done = await anna.send("anna@example.pl")
    assert "Dziękujemy za udział" in texts(done)
    [response] = await responses(harness_with_survey)
    assert response.status == "finished"
    assert response.answers == {
        "wiek": {"choice": "19-64"},
        "zainteresowania": {"choices": ["muzyka", "other"], "other": "gra na bębnach"},
        "ocena": 4,
        "atrakcyjnosc": {"koncerty": 5, "warsztaty": 2},
        "ile_razy": 12,
        "pomysl": "Więcej koncertów w parku",
        "data": "2026-05-15",
        "inicjatywa": {"choice": "poprowadze"},
        "kontakt": True,
        "telefon": "+48600123456",
        "email": "anna@example.pl",
    }


async def test_survey_show_if_hides_follow_ups_when_not_leading(
    harness_with_survey: ChatHarness,
) -> None:
    anna = await resident(harness_with_survey, 502)
    await anna.send("/survey")
    await answer_first_part(anna)
    await anna.press("Pomiń")
    await anna.press("Pomiń")
    done = await anna.press("Nie teraz")
    assert "Dziękujemy za udział" in texts(done)
    [response] = await responses(harness_with_survey)
    assert response.answers["pomysl"] is None and response.answers["data"] is None
    assert "kontakt" not in response.answers


async def test_survey_back_changes_an_answer_and_drops_hidden_ones(
    harness_with_survey: ChatHarness,
) -> None:
    anna = await resident(harness_with_survey, 503)
    await anna.send("/survey")
    await answer_first_part(anna)
    await anna.press("Pomiń")
    await anna.press("Pomiń")
    await anna.press("Tak, poprowadzę")
    asked = await anna.press("Tak")  # may we contact you: yes -> phone
    assert "Telefon?" in texts(asked)
    back = await anna.press("Wstecz")
    assert "Czy możemy się odezwać?" in texts(back)
    assert "Twoja obecna odpowiedź: Tak" in texts(back)
    back = await anna.press("Wstecz")
    assert "Czy poprowadzisz" in texts(back)
    done = await anna.press("Nie teraz")
    assert "Dziękujemy za udział" in texts(done)
    [response] = await responses(harness_with_survey)
    assert response.answers["inicjatywa"] == {"choice": "nie"}
    assert "kontakt" not in response.answers


async def test_survey_progress_counts_what_may_still_be_asked(
    harness_with_survey: ChatHarness,
) -> None:
    """The follow-ups of "would you lead" count until ruled out: the number never falls back."""
    anna = await resident(harness_with_survey, 504)
    assert "Pytanie 1 z 11" in texts(await anna.send("/survey"))
    assert "Pytanie 2 z 11" in texts(await anna.press("do 18"))
    await anna.press("Muzyka")
    await anna.press("Gotowe")
    await anna.press("4")
    await anna.send("5 2")
    await anna.send("12")
    await anna.press("Pomiń")
    assert "Pytanie 8 z 11" in texts(await anna.press("Pomiń"))
    assert "Pytanie 9 z 11" in texts(await anna.press("Tak, poprowadzę"))
    assert "Pytanie 10 z 11" in texts(await anna.press("Tak"))
    assert "Pytanie 11 z 11" in texts(await anna.send("600 123 456"))


@pytest.mark.parametrize(
    ("prepare", "bad", "expected"),
    [
        (0, "sto", "To nie wygląda na liczbę"),
        (0, "7", "Liczba musi być od 0 do 100"),
    ],
)
async def test_survey_invalid_typed_answer_is_explained_and_not_stored(
    harness_with_survey: ChatHarness, prepare: int, bad: str, expected: str
) -> None:
    anna = await resident(harness_with_survey, 505)
    await anna.send("/survey")
    await anna.press("19–64")
    await anna.press("Muzyka")
    await anna.press("Gotowe")
    await anna.press("4")
    await anna.send("5 2")
    if bad == "7":
        bad = "170"
    before = await harness_with_survey.row_counts()
    replies = await anna.send(bad)
    after = await harness_with_survey.row_counts()
    assert expected in texts(replies)
    assert {k: after[k] - before[k] for k in after if after[k] != before[k]} == {
        "outbox": 1,
        "inbound_receipts": 1,
    }


async def test_survey_invalid_answers_of_each_kind(harness_with_survey: ChatHarness) -> None:
    anna = await resident(harness_with_survey, 506)
    await anna.send("/survey")
    assert "przyciskiem" in texts(await anna.send("mam 30 lat"))
    await anna.press("19–64")
    await anna.press("Muzyka")
    await anna.press("Teatr")
    assert "najwyżej 2" in texts(await anna.press("Film"))
    await anna.press("Teatr")  # untick
    await anna.press("Gotowe")
    assert "od 1 do 5" in texts(await anna.send("7"))
    await anna.send("3")  # a typed rating is fine too
    count = said("flow.invalid.grid_count", count=2, given=1)
    assert count in texts(await anna.send("5"))
    value = said("flow.invalid.grid_value", value="9", min=1, max=5)
    assert value in texts(await anna.send("5 9"))
    await anna.send("5 2")
    await anna.send("3")
    await anna.press("Pomiń")
    assert "Nie rozpoznaję tej daty" in texts(await anna.send("31.02.2026"))
    await anna.press("Pomiń")
    await anna.press("Tak, poprowadzę")
    await anna.press("Tak")
    assert "numer telefonu" in texts(await anna.send("123"))
    await anna.press("Pomiń")
    assert "adres e-mail" in texts(await anna.send("anna@@example"))
    [response] = await responses(harness_with_survey)
    assert response.answers["zainteresowania"] == {"choices": ["muzyka"]}
    assert response.answers["ocena"] == 3
    assert "email" not in response.answers and response.answers["telefon"] is None


async def test_survey_cancel_keeps_answers_and_resumes_later(
    harness_with_survey: ChatHarness,
) -> None:
    anna = await resident(harness_with_survey, 507)
    await anna.send("/survey")
    await anna.press("19–64")
    assert "odpowiedzi są zapisane" in texts(await anna.send("/cancel"))
    [response] = await responses(harness_with_survey)
    assert response.status == "started" and response.answers == {"wiek": {"choice": "19-64"}}
    resumed = await anna.send("/survey")
    assert "Wracamy do ankiety" in texts(resumed)
    assert "Co cię interesuje?" in texts(resumed)
    assert "Pytanie 2 z" in texts(resumed)


async def test_survey_old_button_after_moving_on_changes_nothing(
    harness_with_survey: ChatHarness,
) -> None:
    anna = await resident(harness_with_survey, 508)
    await anna.send("/survey")
    await anna.press("19–64")
    # Pressing an option of the first question again, from the old message:
    first_message = next(r for r in anna.seen if "Ile masz lat?" in r.text)
    old = next(b for row in first_message.buttons for b in row if b.label == "do 18")
    assert "nieaktualny" in texts(await anna.choose(old.data))
    [response] = await responses(harness_with_survey)
    assert response.answers == {"wiek": {"choice": "19-64"}}


async def test_survey_one_response_only_says_already_answered(
    harness_with_survey: ChatHarness,
) -> None:
    anna = await resident(harness_with_survey, 509)
    await anna.send("/survey")
    await answer_first_part(anna)
    await anna.press("Pomiń")
    await anna.press("Pomiń")
    await anna.press("Nie teraz")
    assert "już zapisana" in texts(await anna.send("/survey probna"))
    assert len(await responses(harness_with_survey)) == 1


async def test_survey_closed_says_when_it_closed(harness_with_survey: ChatHarness) -> None:
    closed = datetime(2021, 4, 30, 21, 59, tzinfo=UTC)
    harness_with_survey.service.services.surveys = {
        "probna": sample_survey(opens=closed - timedelta(days=30), closes=closed)
    }
    anna = await resident(harness_with_survey, 510)
    assert "Teraz nie trwa żadna ankieta" in texts(await anna.send("/survey"))
    replies = await anna.send("/survey probna")
    assert "została zamknięta 30 kwietnia 2021, 23:59" in texts(replies)


async def test_survey_closing_mid_way_stops_and_keeps_answers(
    harness_with_survey: ChatHarness,
) -> None:
    now = datetime.now(UTC)
    services = harness_with_survey.service.services
    services.surveys = {"probna": sample_survey(closes=now + timedelta(hours=1))}
    anna = await resident(harness_with_survey, 511)
    await anna.send("/survey")
    await anna.press("19–64")
    services.clock = lambda: now + timedelta(hours=2)
    assert "została zamknięta" in texts(await anna.press("Muzyka"))
    [response] = await responses(harness_with_survey)
    assert response.status == "started" and list(response.answers) == ["wiek"]


async def test_survey_in_english_for_english_resident(harness_with_survey: ChatHarness) -> None:
    john = harness_with_survey.person(512, language_hint="en")
    await john.send("/start")
    await john.press("Yes, I agree")
    replies = await john.send("/survey")
    assert "Trial survey" in texts(replies) and "Question 1 of" in texts(replies)


async def test_forget_erases_contact_answers_and_keeps_the_rest_anonymous(
    harness_with_survey: ChatHarness,
) -> None:
    anna = await resident(harness_with_survey, 513)
    await anna.send("/survey")
    await answer_first_part(anna)
    await anna.press("Pomiń")
    await anna.press("Pomiń")
    await anna.press("Tak, poprowadzę")
    await anna.press("Tak")
    await anna.send("600123456")
    await anna.send("anna@example.pl")
    await anna.send("/forget")
    await anna.press("Tak, usuń")
    async with harness_with_survey.service.store.transaction() as session:
        [response] = list(await session.scalars(select(SurveyResponse)))
        kept = {a.question for a in await session.scalars(select(SurveyAnswer))}
    assert response.resident_id is None
    assert "telefon" not in kept and "email" not in kept
    assert {"wiek", "ocena", "inicjatywa"} <= kept


async def test_mydata_lists_survey_answers(harness_with_survey: ChatHarness) -> None:
    import json

    anna = await resident(harness_with_survey, 514)
    await anna.send("/survey")
    await anna.press("65 i więcej")
    [file_reply] = [r for r in await anna.send("/mydata") if r.file]
    assert file_reply.file is not None
    data = json.loads(file_reply.file.content)
    [entry] = data["survey_responses"]
    assert entry["survey"] == "probna" and entry["answers"] == {"wiek": {"choice": "65plus"}}


@pytest.mark.parametrize(
    ("bad", "key", "values"),
    [
        ("5", "flow.invalid.grid_count", {"count": 2, "given": 1}),
        ("5 ?", "flow.invalid.grid_value", {"value": "?", "min": 1, "max": 5}),
    ],
)
async def test_survey_typed_grid_that_does_not_fit_changes_nothing(
    harness_with_survey: ChatHarness, bad: str, key: str, values: dict[str, object]
) -> None:
    anna = await resident(harness_with_survey, 515)
    await anna.send("/survey")
    await anna.send("2")  # the second age band, typed
    await anna.send("1")
    await anna.press("4")
    await rate(anna, "Koncerty", "5")  # a row rated with a button, then a wrong typed grid
    before = await harness_with_survey.row_counts()
    replies = await anna.send(bad)
    after = await harness_with_survey.row_counts()
    assert texts(replies) == said(key, **values)
    assert {k: after[k] - before[k] for k in after if after[k] != before[k]} == {
        "outbox": 1,
        "inbound_receipts": 1,
    }
    [response] = await responses(harness_with_survey)
    assert response.answers == {
        "wiek": {"choice": "19-64"},
        "zainteresowania": {"choices": ["muzyka"]},
        "ocena": 4,
    }


async def test_survey_back_to_a_typed_answer_invites_typing_another(
    harness_with_survey: ChatHarness,
) -> None:
    anna = await resident(harness_with_survey, 516)
    await anna.send("/survey")
    await answer_first_part(anna)
    await anna.press("Pomiń")
    await anna.press("Pomiń")
    await anna.press("Tak, poprowadzę")
    await anna.press("Tak")
    await anna.send("600 123 456")
    back = await anna.press("Wstecz")
    assert said("survey.current_typed", answer="+48600123456") in texts(back)
