"""The diagnosis end to end in Telegram, and the coordinator's results and exports."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import openpyxl
import pytest
from sqlalchemy import select

from handlers.surveys import exports
from handlers.surveys.buttons import ResultsShare
from storage import survey_privacy, surveys
from storage.models import Broadcast, SurveyResponse
from tests.conftest import COORDINATOR_ID
from tests.e2e.conftest import LiveBot, wait_until
from tests.e2e.survey_driver import answer_survey
from tests.harness import said

DURING_DIAGNOSIS = datetime(2021, 3, 15, 12, 0, tzinfo=UTC)
OUTRO = "Dziękujemy za wypełnienie ankiety"


@pytest.fixture
def diagnosis_bot(live_bot: LiveBot) -> LiveBot:
    live_bot.service.services.clock = lambda: DURING_DIAGNOSIS
    return live_bot


async def consent(bot: LiveBot, user_id: int) -> None:
    await bot.say(user_id, "/start")
    await bot.press(user_id, "Tak, zgadzam", count=2)


async def test_full_diagnosis_in_telegram_is_stored_finished(diagnosis_bot: LiveBot) -> None:
    await consent(diagnosis_bot, 8001)
    intro, first = await diagnosis_bot.say(8001, "/survey diagnoza-2021", count=2)
    assert "Diagnoza potrzeb kulturalnych" in intro["text"]
    assert first["text"].startswith("Pytanie 1 z")
    steps = await answer_survey(diagnosis_bot, 8001, until=OUTRO)
    assert steps >= 17
    resident = await diagnosis_bot.resident(8001)
    assert resident is not None
    async with diagnosis_bot.service.store.transaction() as session:
        [response] = await surveys.all_responses(session, "diagnoza-2021")
        [contact] = await survey_privacy.contacts_of(session, resident.id)
        taken = await survey_privacy.participated_in(session, resident.id)
    # Anonymous: finished answers have no resident, and no contact answers among them.
    assert response.status == "finished" and response.resident_id is None
    assert not {"kontakt-zgoda", "imie", "telefon", "email"} & set(response.answers)
    assert len(response.answers) == 13
    # The contact part is its own record, with the consent given, and "took part" apart.
    assert contact.consent is True and contact.interest == ["poprowadze"]
    assert contact.details["telefon"] == "+48600123456" and contact.details["imie"] == "Anna"
    assert taken == ["diagnoza-2021"]
    again = await diagnosis_bot.say(8001, "/survey diagnoza-2021")
    assert "już" in again[0]["text"]


async def test_survey_stale_and_invalid_input_in_telegram(diagnosis_bot: LiveBot) -> None:
    await consent(diagnosis_bot, 8002)
    await diagnosis_bot.say(8002, "/survey diagnoza-2021", count=2)
    [answer] = await diagnosis_bot.say(8002, "lubię muzykę")
    assert "przyciskiem" in answer["text"]
    await answer_survey(diagnosis_bot, 8002, until="Pytanie 2 z")
    first = next(m for m in diagnosis_bot.api.sent(8002) if m["text"].startswith("Pytanie 1 z"))
    stale = first["buttons"][0][0]["callback_data"]
    already = len(diagnosis_bot.api.sent(8002))
    diagnosis_bot.api.push_callback(8002, stale)
    [reply] = await diagnosis_bot.replies(8002, already, 1)
    assert "nieaktualny" in reply["text"]


@pytest.mark.slow
async def test_coordinator_results_exports_and_leaders_in_telegram(
    diagnosis_bot: LiveBot,
) -> None:
    await consent(diagnosis_bot, 8003)
    await diagnosis_bot.say(8003, "/survey diagnoza-2021", count=2)
    await answer_survey(diagnosis_bot, 8003, until=OUTRO)
    api = diagnosis_bot.api
    [listing] = await diagnosis_bot.say(COORDINATOR_ID, "/results")
    labels = [b["text"] for row in listing["buttons"] for b in row]
    assert labels[0].startswith("Diagnoza")
    assert any(
        "Diagnoza" in line and "ukończone: 1" in line for line in listing["text"].splitlines()
    )
    already = len(api.sent(COORDINATOR_ID))
    diagnosis_bot.api.push_callback(COORDINATOR_ID, listing["buttons"][0][0]["callback_data"])
    # One summary, the twelve charts as albums (Telegram takes ten at a time), one file.
    await api.await_sent(COORDINATOR_ID, already + 4, timeout=30)
    results = api.sent(COORDINATOR_ID)[already:]
    assert [m["method"] for m in results] == [
        "sendMessage",
        "sendMediaGroup",
        "sendMediaGroup",
        "sendDocument",
    ]
    summary, first, second, document = results
    assert "Diagnoza potrzeb kulturalnych" in summary["text"]
    assert [len(first["album"]), len(second["album"])] == [10, 2]
    pictures = first["album"] + second["album"]
    assert all(p["type"] == "photo" and p["content"][:8] == b"\x89PNG\r\n\x1a\n" for p in pictures)
    assert document["filename"] == "diagnoza-2021-raport.html"
    html = document["content"].decode()
    assert html.count("<figure>") == 12
    # The contact part (name, phone, e-mail) is not in it; "Anna" typed as an idea is.
    assert "Jak masz na imię?" not in html and "<blockquote>Anna</blockquote>" in html
    assert "+48600123456" not in html and "mieszkaniec@example.pl" not in html
    assert document["buttons"][0][0]["text"] == said("surveyadmin.share")

    [xlsx, csv] = await diagnosis_bot.say(COORDINATOR_ID, "/export diagnoza-2021", count=2)
    assert xlsx["filename"] == "diagnoza-2021.xlsx" and csv["filename"] == "diagnoza-2021.csv"
    book = openpyxl.load_workbook(io.BytesIO(xlsx["content"]))
    cells = [str(c.value) for row in book.worksheets[0].iter_rows() for c in row]
    assert "8003" not in cells and "Anna" not in " ".join(cells[:5])

    [leaders] = await diagnosis_bot.say(COORDINATOR_ID, "/leaders")
    assert "Anna" in leaders["text"] and "+48600123456" in leaders["text"]


async def test_anonymous_survey_export_has_no_respondent(diagnosis_bot: LiveBot) -> None:
    await consent(diagnosis_bot, 8004)
    await diagnosis_bot.say(8004, "/survey diagnoza-2021", count=2)
    await answer_survey(diagnosis_bot, 8004, until="Pytanie 3 z")
    survey = diagnosis_bot.service.services.surveys["diagnoza-2021"]
    async with diagnosis_bot.service.store.transaction() as session:
        responses = await surveys.all_responses(session, "diagnoza-2021")
        stored = await session.scalar(select(SurveyResponse))
    assert stored is not None and stored.resident_id is not None  # kept to resume
    data = json.loads(exports.to_json(survey, responses))
    [response] = data["responses"]
    assert "respondent" not in response and response["status"] == "unfinished"
    assert "8004" not in json.dumps(data)


async def test_shared_results_reach_subscribers_without_personal_answers(
    diagnosis_bot: LiveBot,
) -> None:
    api = diagnosis_bot.api
    await consent(diagnosis_bot, 8010)
    await diagnosis_bot.press(8010, "Tak, chcę")  # a subscriber
    await diagnosis_bot.say(8010, "/survey diagnoza-2021", count=2)
    await answer_survey(diagnosis_bot, 8010, until=OUTRO)
    # The diagnosis is over (and the scheduler runs the broadcast on real time).
    diagnosis_bot.service.services.clock = lambda: datetime.now(UTC)

    def decision() -> bool:
        return any(
            "Tak, roześlij" in b["text"]
            for m in api.sent(COORDINATOR_ID)
            for row in m.get("buttons") or []
            for b in row
        )

    already = len(api.sent(COORDINATOR_ID))
    api.push_callback(COORDINATOR_ID, ResultsShare("diagnoza-2021").pack())
    await wait_until(decision, timeout=20)
    preview = api.sent(COORDINATOR_ID)[already:]
    before = len(api.sent(8010))
    [started] = await diagnosis_bot.press(COORDINATOR_ID, "Tak, roześlij")
    assert started["text"] == said("broadcast.queued", number=1)
    async with diagnosis_bot.service.store.transaction() as session:
        [broadcast] = list(await session.scalars(select(Broadcast)))
    assert len(broadcast.extra or []) == 2  # the summary, then the album and the report
    # The album of twelve charts arrives as two media groups: four calls in all.
    await api.await_sent(8010, before + 4, timeout=30)
    got = api.sent(8010)[before:]
    assert [m["method"] for m in got] == [
        "sendMessage",
        "sendMediaGroup",
        "sendMediaGroup",
        "sendDocument",
    ]
    pictures = [p for m in got if m["method"] == "sendMediaGroup" for p in m["album"]]
    assert len(pictures) == 12
    assert all(p["content"][:8] == b"\x89PNG\r\n\x1a\n" for p in pictures)
    report = got[-1]["content"].decode()
    assert "Ile masz lat?" in report
    text = "\n".join(m["text"] or "" for m in got)
    assert "Diagnoza potrzeb kulturalnych" in text
    # The subscriber got what the coordinator previewed, and nothing personal.
    shown = "\n".join(m["text"] or "" for m in preview)
    assert all((m["text"] or "") in shown for m in got if m["method"] == "sendMessage")
    for personal in ("600 123 456", "+48600123456", "mieszkaniec@example.pl", "Anna"):
        assert personal not in text and personal not in report
