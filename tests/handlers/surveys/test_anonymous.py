"""An anonymous survey in the chat: once finished, the answers have no link to the resident.

The contact part (consent, phone, e-mail) is its own record, /leaders reads it,
exports never see it, /mydata says what is and is not linked, /forget removes it.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
from sqlalchemy import select
from typer.testing import CliRunner

from bot.cli import app
from storage import audiences
from storage.models import SurveyContact, SurveyParticipation, SurveyResponse
from tests.conftest import CONTENT, COORDINATOR_ID
from tests.handlers.survey_fixture import sample_survey
from tests.handlers.surveys.answering import answer_all
from tests.harness import ChatHarness, Person, texts

IDEA = "Warsztaty garncarskie dla dzieci"
PHONE = "600 111 222"
EMAIL = "anna.kontakt@example.pl"
DONE = "Dziękujemy za udział"


async def answers(
    harness: ChatHarness, user_id: int, name: str, *, agrees: bool, email: str = EMAIL
) -> Person:
    person = harness.person(user_id, name=name)
    await person.send("/start")
    await person.press("Tak, zgadzam")
    await person.send("/survey")
    typed = {"Telefon": PHONE, "E-mail": email, "pomysł": IDEA}
    pressed = {"odezwać": "Tak" if agrees else "Nie"}
    await answer_all(person, until=DONE, typed=typed, pressed=pressed)
    return person


async def test_finished_anonymous_answers_are_cut_from_the_resident(
    store_harness: ChatHarness,
) -> None:
    harness = store_harness
    harness.service.services.surveys = {"probna": sample_survey(anonymous=True)}
    anna = await answers(harness, 701, "Anna", agrees=True)
    await answers(harness, 702, "Bartek", agrees=False, email="bartek@example.pl")
    async with harness.service.store.transaction() as session:
        responses = list(await session.scalars(select(SurveyResponse)))
        contacts = list(await session.scalars(select(SurveyContact).order_by(SurveyContact.id)))
        taken = list(await session.scalars(select(SurveyParticipation)))
    assert len(responses) == 2 and all(r.resident_id is None for r in responses)
    assert len(taken) == 2
    agreed, declined = contacts
    assert agreed.consent is True and agreed.resident_id is not None
    assert agreed.interest == ["poprowadze"] and set(agreed.details) == {"telefon", "email"}
    # A "no" is stored as a no, with nobody behind it and nothing to contact.
    assert (declined.consent, declined.resident_id, declined.details) == (False, None, {})
    # One response per person still holds.
    assert "jest już zapisana" in texts(await anna.send("/survey"))

    [mydata] = [r for r in await anna.send("/mydata") if r.file is not None]
    assert mydata.file is not None
    dump = mydata.file.content.decode()
    data = json.loads(dump)
    assert data["survey_responses"] == []
    [taken_note] = data["anonymous_surveys_taken"]
    assert taken_note["survey"] == "probna" and taken_note["answers_linked_to_you"] is False
    assert "bez powiązania z tobą" in taken_note["note"]
    assert [c["contact_details"]["email"] for c in data["survey_contact_details"]] == [EMAIL]
    assert IDEA not in dump

    coordinator = harness.person(COORDINATOR_ID, coordinator=True)
    xlsx, csv = await coordinator.send("/export probna")
    assert xlsx.file is not None and csv.file is not None
    book = openpyxl.load_workbook(io.BytesIO(xlsx.file.content))
    cells = " ".join(
        str(c.value) for sheet in book.worksheets for row in sheet.iter_rows() for c in row
    )
    grid = csv.file.content.decode("utf-8-sig")
    for export in (cells, grid):
        assert IDEA in export
        for personal in (EMAIL, "bartek@example.pl", "600111222", "Anna", "Bartek", "701"):
            assert personal not in export
        assert "Telefon?" not in export and "E-mail?" not in export

    leaders = texts(await coordinator.send("/leaders"))
    assert EMAIL in leaders and "bartek@example.pl" not in leaders
    assert "701" not in leaders and "Telegram" not in leaders

    await anna.send("/forget")
    await anna.press("Tak, usuń")
    async with harness.service.store.transaction() as session:
        left = list(await session.scalars(select(SurveyContact)))
        taken = list(await session.scalars(select(SurveyParticipation)))
    assert [c.consent for c in left] == [False] and len(taken) == 1


async def test_responses_kept_before_sealing_are_sealed_at_start(
    store_harness: ChatHarness,
) -> None:
    """A survey made anonymous after answers came in: the start-up cuts the old links."""
    harness = store_harness
    harness.service.services.surveys = {"probna": sample_survey()}
    await answers(harness, 711, "Celina", agrees=True)
    async with harness.service.store.transaction() as session:
        [before] = list(await session.scalars(select(SurveyResponse)))
    assert before.resident_id is not None
    harness.service.services.surveys = {"probna": sample_survey(anonymous=True)}
    await harness.service.prepare()
    await harness.service.prepare()  # twice: nothing more changes
    async with harness.service.store.transaction() as session:
        [after] = list(await session.scalars(select(SurveyResponse)))
        [contact] = list(await session.scalars(select(SurveyContact)))
        taken = list(await session.scalars(select(SurveyParticipation)))
    assert after.resident_id is None and len(taken) == 1
    assert contact.details["email"] == EMAIL


async def test_audiences_of_an_anonymous_survey_know_who_took_part(
    store_harness: ChatHarness,
) -> None:
    """Thanks go to who finished, reminders to who did not, though answers are unlinked."""
    harness = store_harness
    harness.service.services.surveys = {"probna": sample_survey(anonymous=True)}
    done = await answers(harness, 721, "Dorota", agrees=False)
    await done.send("/subscribe")
    halfway = harness.person(722, name="Edek")
    await halfway.send("/start")
    await halfway.press("Tak, zgadzam")
    await halfway.send("/survey")
    await halfway.press("19–64")
    async with harness.service.store.transaction() as session:
        thanked = await audiences.respondents(session, "probna")
        reminded = await audiences.unfinished_respondents(session, "probna")
    assert [r.address for r in thanked] == ["721"]
    assert [r.address for r in reminded] == ["722"]


DIAGNOSIS_TIME = datetime(2021, 3, 15, 12, 0, tzinfo=UTC)


async def test_cli_leaders_and_results_of_the_anonymous_diagnosis(
    store_harness: ChatHarness, database_url: str, tmp_path: Path
) -> None:
    """`lokalnie survey leaders` names who agreed, by what they typed; results carry no contact."""
    harness = store_harness
    harness.service.services.clock = lambda: DIAGNOSIS_TIME
    zofia = harness.person(731, name="Zosia")
    await zofia.send("/start")
    await zofia.press("Tak, zgadzam")
    await zofia.send("/survey diagnoza-2021")
    typed = {"imię": "Zofia", "telefonu": PHONE, "e-mail": EMAIL, "pomysł": IDEA}
    await answer_all(zofia, until="Dziękujemy za wypełnienie", typed=typed)
    env = {
        "DATABASE_URL": database_url,
        "CONTENT_DIR": str(CONTENT),
        "DATA_DIR": str(tmp_path / "cli-data"),
        "COORDINATOR_IDS": str(COORDINATOR_ID),
    }

    def cli(*args: str) -> str:
        result = CliRunner().invoke(app, list(args), env=env)
        assert result.exit_code == 0, result.output
        return result.output

    leaders = await asyncio.to_thread(cli, "survey", "leaders", "diagnoza-2021")
    assert "Zofia" in leaders and EMAIL in leaders and "600" in leaders
    assert "731" not in leaders and "Zosia" not in leaders
    for form in ("csv", "json", "table"):
        grid = await asyncio.to_thread(cli, "survey", "results", "diagnoza-2021", "--format", form)
        assert IDEA in grid or form == "table"
        for personal in ("Zofia", "Zosia", EMAIL, "600111222", "731", "kontakt-zgoda"):
            assert personal not in grid
    # The printable report: the charts inside, the idea quoted, no contact.
    path = tmp_path / "raport.html"
    await asyncio.to_thread(cli, "survey", "report", "diagnoza-2021", "--out", str(path))
    html = path.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and html.count("data:image/png;base64,") == 12
    assert IDEA in html
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html)  # the words, not the pixels
    for personal in ("Zofia", "Zosia", EMAIL, "600111222", "731"):
        assert personal not in text
