"""The surveys pages over real HTTP: the list, the results with filters, the report, the files.

The survey and the four residents' answers are the chat's results tests' own
(`tests/handlers/surveys/answered_survey.py`); two paper questionnaires and one
e-mail response are added, entered in March 2021, so each filter has something
to leave out. The numbers are compared with what the chat's /results sends.
"""

from __future__ import annotations

import csv
import html
import io
from collections import OrderedDict
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.app import Service
from handlers.surveys import report
from panel import survey_view
from storage import residents, surveys
from storage.db import Store
from storage.models import PanelAudit, SurveyResponse
from tests.conftest import COORDINATOR_ID
from tests.handlers.surveys.answered_survey import build_survey, fill
from tests.harness import ChatHarness
from tests.panel.conftest import Site, sign_in

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SLUG = "diagnoza"
TITLE = "Diagnoza potrzeb kulturalnych"
PAPER_DAY = datetime(2021, 3, 10, 9, 0, tzinfo=UTC)
PAPER = [
    {"often": {"choice": "week"}, "interests": {"choices": ["music"]}, "offer": 3},
    {"often": {"choice": "month"}, "interests": {"choices": ["crafts"]}, "offer": 5},
]
BY_MAIL = {"often": {"choice": "never"}, "interests": {"choices": ["theatre"]}, "offer": 1}


def t(site: Site, key: str, **values: object) -> str:
    return site.service.services.translator.text("pl", key, **values)


def text_of(response: httpx.Response) -> str:
    return html.unescape(response.text)


class Tables(HTMLParser):
    """The rows of a page's tables (data cells only), and its title."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.title = ""
        self._cell: list[str] | None = None
        self._in_title = False
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag == "td":
            self._cell = []
        self._in_title = tag == "title"

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None
        self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._in_title:
            self.title += data


async def add_response(
    store: Store,
    answers: dict[str, Any],
    *,
    channel: str,
    started: datetime,
    telegram_id: int | None,
) -> None:
    async with store.transaction() as session:
        resident = await residents.create_with_consent(
            session, telegram_id=telegram_id, name=None, language="pl"
        )
        response = await surveys.start_response(
            session, survey=SLUG, resident_id=resident.id, language="pl", channel=channel
        )
        for question, value in answers.items():
            await surveys.save_answer(session, response=response, question=question, value=value)
        await surveys.finish(session, response)
        stored = await session.get(SurveyResponse, response.id)
        assert stored is not None
        stored.started_at = started


async def seed(service: Service, database_url: str) -> None:
    """The survey and its seven responses in the service's store."""
    service.services.surveys = {SLUG: build_survey()}
    await fill(database_url, build_survey())
    store = service.store
    for answers in PAPER:
        await add_response(store, answers, channel="paper", started=PAPER_DAY, telegram_id=None)
    await add_response(store, BY_MAIL, channel="email", started=PAPER_DAY, telegram_id=8801)


@pytest.fixture
async def seeded(site: Site, database_url: str) -> Site:
    site.service.services.clock = lambda: NOW
    await seed(site.service, database_url)
    return site


@pytest.fixture
async def client(seeded: Site) -> AsyncIterator[httpx.AsyncClient]:
    async with seeded.client() as client:
        await sign_in(client, seeded.link())
        yield client


async def test_the_list_shows_each_survey_with_its_respondents_and_state(
    seeded: Site, client: httpx.AsyncClient
) -> None:
    closed = build_survey(slug="zeszloroczna").model_copy(
        update={"closes": datetime(2025, 12, 31, tzinfo=UTC)}
    )
    seeded.service.services.surveys["zeszloroczna"] = closed
    page = text_of(await client.get("/surveys"))
    rows = [row for row in Tables(page).rows if row]
    # Anna, Bartek, Darek, two paper questionnaires and one e-mail finished; Celina did not.
    assert rows == [
        [TITLE, "–", "7", "6", t(seeded, "panel.surveys.state.open")],
        [
            TITLE,
            t(seeded, "results.dates_until", date="31 grudnia 2025"),
            "0",
            "0",
            t(seeded, "panel.surveys.state.closed"),
        ],
    ]
    assert '<a href="/surveys/diagnoza">' in page


async def test_the_numbers_are_those_the_chat_sends(
    seeded: Site, client: httpx.AsyncClient
) -> None:
    coordinator = ChatHarness(seeded.service).person(COORDINATOR_ID, coordinator=True)
    summary, album, document = await coordinator.send(f"/results {SLUG}")
    assert document.file is not None
    chat = Tables(document.file.content.decode())
    page = (await client.get(f"/surveys/{SLUG}")).text
    panel = Tables(page)
    assert panel.rows and [r for r in panel.rows if r] == [r for r in chat.rows if r]
    assert t(seeded, "results.respondents", started=7, finished=6) in html.unescape(page)
    assert page.count('<figure class="chart">') == len(album.album)
    # Paper questionnaires are counted apart, as in the chat's overview.
    counted = t(seeded, "onbehalf.count_part", channel=t(seeded, "onbehalf.via.paper"), count=2)
    assert counted in html.unescape(page)


async def test_each_filter_narrows_the_count(seeded: Site, client: httpx.AsyncClient) -> None:
    async def respondents(**params: Any) -> str:
        page = text_of(await client.get(f"/surveys/{SLUG}", params=params))
        return page

    def shows(page: str, started: int, finished: int) -> bool:
        return t(seeded, "results.respondents", started=started, finished=finished) in page

    assert shows(await respondents(), 7, 6)
    paper = await respondents(channel="paper")
    assert shows(paper, 2, 2)
    assert (
        t(seeded, "panel.surveys.filtered", filters=t(seeded, "panel.surveys.channel.paper"))
        in paper
    )
    assert shows(await respondents(channel=["paper", "email"]), 3, 3)
    assert shows(await respondents(channel="telegram"), 4, 3)
    assert shows(await respondents(**{"from": "2021-03-01", "to": "2021-03-31"}), 3, 3)
    assert shows(await respondents(**{"from": "2026-01-01"}), 4, 3)
    # Anna and Darek, and the first paper questionnaire, come weekly.
    weekly = await respondents(answer="often=week")
    assert shows(weekly, 3, 3)
    assert shows(await respondents(answer=["often=week", "interests=crafts"]), 1, 1)
    assert shows(await respondents(answer="often=week", channel="paper"), 1, 1)
    # A scale point (Bartek and the second paper questionnaire gave 5), and yes or no.
    assert shows(await respondents(answer="offer=5"), 2, 2)
    assert shows(await respondents(answer="contact_ok=yes"), 2, 2)
    assert shows(await respondents(answer="interests=other"), 1, 1)
    # What is not understood is left out, not an error.
    assert shows(await respondents(answer="often=nonsense", channel="fax", to="jutro"), 7, 6)


async def test_the_report_downloads_as_a_page_and_a_pdf(
    seeded: Site, client: httpx.AsyncClient
) -> None:
    served = await client.get(f"/surveys/{SLUG}/report.html", params={"channel": "paper"})
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("text/html")
    page = Tables(served.content.decode())
    assert TITLE in page.title
    text = text_of(served)
    assert t(seeded, "results.respondents", started=2, finished=2) in text
    assert t(seeded, "panel.surveys.channel.paper") in text
    assert "anna@example.pl" not in text
    assert "@media print" in text
    pdf = await client.get(f"/surveys/{SLUG}/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"
    assert "attachment" in pdf.headers["content-disposition"]
    # A head page, then a page (at least) for each of the nine questions shown.
    assert pdf.content.count(b"/Type /Page ") >= 1 + 9


async def audit_entries(site: Site, action: str) -> list[PanelAudit]:
    async with site.service.store.transaction() as session:
        return list(await session.scalars(select(PanelAudit).where(PanelAudit.action == action)))


async def test_the_exports_open_in_openpyxl_and_as_csv_and_are_logged(
    seeded: Site, client: httpx.AsyncClient
) -> None:
    xlsx = await client.get(f"/surveys/{SLUG}/export.xlsx")
    assert xlsx.status_code == 200
    assert f"filename*=UTF-8''{SLUG}.xlsx" in xlsx.headers["content-disposition"]
    book = load_workbook(io.BytesIO(xlsx.content))
    sheet = book[t(seeded, "export.sheet_responses")]
    assert sheet.max_row == 2 + 7  # two header rows, one row per response
    served = await client.get(f"/surveys/{SLUG}/export.csv", params={"channel": "paper"})
    assert served.headers["content-disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO(served.content.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 2 + 2
    logged = await audit_entries(seeded, "survey_export")
    assert [(e.target, e.coordinator_id) for e in logged] == [(SLUG, COORDINATOR_ID)] * 2
    assert [e.detail["format"] for e in logged] == ["xlsx", "csv"]
    assert "filter" not in logged[0].detail and logged[1].detail["filter"] == "channel=paper"
    audit_page = text_of(await client.get("/audit"))
    assert t(seeded, "panel.audit.survey_export") in audit_page


async def test_the_leaders_list_shows_only_those_who_consented(
    seeded: Site, client: httpx.AsyncClient
) -> None:
    page = text_of(await client.get(f"/surveys/{SLUG}/leaders"))
    assert "Anna" in page and "anna@example.pl" in page
    # Bartek would join but said no to being contacted.
    assert "Bartek" not in page
    # Darek said yes, then erased his data: only the contacts he gave stay.
    assert "Darek" not in page and "darek@example.pl" in page
    assert t(seeded, "results.leader_erased") in page
    [entry] = await audit_entries(seeded, "survey_leaders")
    assert entry.target == SLUG and entry.detail == {"people": 2}


async def test_without_a_session_every_survey_page_is_refused(seeded: Site) -> None:
    paths = [
        "/surveys",
        f"/surveys/{SLUG}",
        f"/surveys/{SLUG}/report.html",
        f"/surveys/{SLUG}/report.pdf",
        f"/surveys/{SLUG}/export.xlsx",
        f"/surveys/{SLUG}/export.csv",
        f"/surveys/{SLUG}/leaders",
    ]
    async with seeded.client() as stranger:
        for path in paths:
            response = await stranger.get(path)
            assert response.status_code == 401, path
            assert t(seeded, "panel.sign_in_first") in text_of(response)
            assert TITLE not in response.text
    assert await audit_entries(seeded, "survey_export") == []


async def test_an_unknown_survey_is_not_found(client: httpx.AsyncClient) -> None:
    for path in ("/surveys/nie-ma", "/surveys/nie-ma/export.csv", "/surveys/nie-ma/leaders"):
        assert (await client.get(path)).status_code == 404, path


async def test_charts_are_drawn_once_per_view_until_the_numbers_change(
    seeded: Site, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn: list[int] = []

    def counting(*args: Any) -> list[report.Chart]:
        charts = report.draw_charts(*args)
        drawn.append(len(charts))
        return charts

    monkeypatch.setattr(survey_view, "_charts", OrderedDict())
    monkeypatch.setattr(survey_view, "draw_charts", counting)
    for _ in range(2):
        await client.get(f"/surveys/{SLUG}")
    await client.get(f"/surveys/{SLUG}/report.html")
    assert len(drawn) == 1
    await client.get(f"/surveys/{SLUG}", params={"channel": "paper"})
    assert len(drawn) == 2
    await add_response(
        seeded.service.store, BY_MAIL, channel="email", started=NOW, telegram_id=8802
    )
    page = text_of(await client.get(f"/surveys/{SLUG}"))
    assert len(drawn) == 3
    assert t(seeded, "results.respondents", started=8, finished=7) in page


async def test_a_coordinator_who_chose_english_reads_the_results_in_english(
    seeded: Site,
) -> None:
    async with seeded.service.store.transaction() as session:
        await residents.create_without_consent(
            session, telegram_id=COORDINATOR_ID, name="Kasia", language="en"
        )
    texts = seeded.service.services.translator
    async with seeded.client() as client:
        await sign_in(client, seeded.link())
        page = text_of(await client.get(f"/surveys/{SLUG}", params={"channel": "paper"}))
        report_page = text_of(await client.get(f"/surveys/{SLUG}/report.html"))
    assert '<html lang="en">' in page and '<html lang="en">' in report_page
    assert texts.text("en", "results.respondents", started=2, finished=2) in page
    assert texts.text("en", "panel.surveys.channel.paper") in page
    assert "Cultural needs" in page and "Weekly" in page
    assert texts.text("pl", "panel.surveys.filters") not in page


async def test_a_kept_view_gives_way_when_an_answer_changes_or_a_response_goes(
    seeded: Site, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(survey_view, "_views", OrderedDict())

    async def weekly() -> str:
        return text_of(await client.get(f"/surveys/{SLUG}", params={"answer": "often=week"}))

    def shows(page: str, started: int, finished: int) -> bool:
        return t(seeded, "results.respondents", started=started, finished=finished) in page

    assert shows(await weekly(), 3, 3)
    assert shows(await weekly(), 3, 3)  # kept
    store = seeded.service.store
    async with store.transaction() as session:
        paper = await surveys.all_responses(session, SLUG, channels=["paper"])
    first = next(r for r in paper if r.answers.get("often") == {"choice": "week"})
    async with store.transaction() as session:
        response = await session.get(SurveyResponse, first.id)
        assert response is not None
        month = {"choice": "month"}
        await surveys.save_answer(session, response=response, question="often", value=month)
    assert shows(await weekly(), 2, 2)
    async with store.transaction() as session:
        response = await session.get(SurveyResponse, first.id)
        await session.delete(response)
    assert shows(text_of(await client.get(f"/surveys/{SLUG}")), 6, 5)
