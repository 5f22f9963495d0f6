"""Results a phone can hold: one short summary, the charts as one album, one report file.

The report is parsed as HTML, as a browser would read it: every chart in it
comes with the survey's title, dates and respondents; the charts themselves
carry the same line at their foot.
"""

from __future__ import annotations

import base64
from datetime import datetime
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from matplotlib.image import imread

from handlers.core.content_files import note
from handlers.core.forms import Question, Survey
from handlers.core.i18n import Translator
from handlers.surveys import report
from handlers.surveys.charts import chart_png
from handlers.surveys.files import check_survey_file, load_surveys
from handlers.surveys.parts import CLOSED_TYPES, answer_part, is_personal
from handlers.surveys.results import overview, summarise
from handlers.surveys.results_text import chart_footer, short_summary
from storage.surveys import StoredResponse
from tests.conftest import CONTENT
from tests.handlers.surveys.answered_survey import build_survey, fill
from tests.harness import ChatHarness, said

WARSAW = ZoneInfo("Europe/Warsaw")
PNG = b"\x89PNG\r\n\x1a\n"
DATES = "1 marca\u2009–\u200930 kwietnia 2021"  # Babel's range, thin spaces round the dash


def dated(survey: Survey) -> Survey:
    """The survey as it ran: March and April 2021, in the centre's time zone."""
    return survey.model_copy(
        update={
            "opens": datetime(2021, 3, 1, tzinfo=WARSAW),
            "closes": datetime(2021, 4, 30, 23, 59, tzinfo=WARSAW),
        }
    )


@pytest.fixture
async def answered(sqlite_url: str) -> tuple[Survey, list[StoredResponse]]:
    survey = dated(build_survey())
    return survey, await fill(sqlite_url, survey)


class Page(HTMLParser):
    """What a browser would show: the title, the figures with their captions, the sections."""

    def __init__(self) -> None:
        super().__init__()
        self.title = ""
        self.figures: list[dict[str, str]] = []
        self.sections: list[str] = []
        self.tags: set[str] = set()
        self.sources: list[str] = []
        self.style = ""
        self._in: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.tags.add(tag)
        self._in.append(tag)
        if tag == "figure":
            self.figures.append({"src": "", "caption": ""})
        elif tag == "img":
            self.sources.append(values.get("src") or "")
            if self.figures:
                self.figures[-1]["src"] = values.get("src") or ""
        elif tag == "section":
            self.sections.append(values.get("id") or "")

    def handle_endtag(self, tag: str) -> None:
        if self._in and self._in[-1] == tag:
            self._in.pop()

    def handle_data(self, data: str) -> None:
        if not self._in:
            return
        if self._in[-1] == "title":
            self.title += data
        elif self._in[-1] == "figcaption":
            self.figures[-1]["caption"] += data
        elif self._in[-1] == "style":
            self.style += data


def read_page(html: bytes) -> Page:
    page = Page()
    page.feed(html.decode("utf-8"))
    page.close()
    return page


def coordinator_view(survey: Survey, responses: list[StoredResponse]) -> list[Any]:
    """The summaries /results reports: personal questions left out."""
    return [s for s in summarise(survey, responses, language="pl") if not is_personal(s.question)]


async def test_report_is_html_whose_every_chart_names_the_survey_dates_and_respondents(
    answered: Any, translator: Translator
) -> None:
    survey, responses = answered
    summaries = coordinator_view(survey, responses)
    counts = overview(responses)
    charts = report.draw_charts(survey, counts, summaries, translator, "pl", WARSAW)
    file = report.report_file(survey, counts, summaries, charts, translator, "pl", WARSAW)
    assert (file.name, file.mime_type) == ("diagnoza-raport.html", "text/html")
    page = read_page(file.content)
    title = "Diagnoza potrzeb kulturalnych"
    respondents = said("results.respondents", started=4, finished=3)
    assert title in page.title
    # A chart per closed question, each drawn into the page, each with its source line.
    assert len(page.figures) == len(charts) == 6
    for figure in page.figures:
        assert title in figure["caption"] and DATES in figure["caption"]
        assert respondents in figure["caption"]
        head, _, data = figure["src"].partition(",")
        assert head == "data:image/png;base64"
        image = base64.b64decode(data)
        assert image[:8] == PNG and imread(BytesIO(image)).shape[1] == 1080
    # Self-contained: nothing to fetch, nothing to run; printed a question a page.
    assert not {"script", "link", "iframe"} & page.tags
    assert all(source.startswith("data:") for source in page.sources)
    assert "@media print" in page.style and "break-before: page" in page.style
    # A section per question shown; e-mail and phone are not among them.
    assert len(page.sections) == len(summaries) == 9
    html = file.content.decode()
    assert "anna@example.pl" not in html and "+48 600 100 200" not in html
    assert "Więcej koncertów w parku" in html  # the open answers are in the report


async def test_report_keeps_answers_as_text(translator: Translator) -> None:
    survey = build_survey()
    response = StoredResponse(
        1,
        survey.slug,
        None,
        None,
        None,
        "finished",
        "pl",
        "telegram",
        None,
        None,
        {"idea": '<script>alert("x")</script> <img src=http://zły.example/a.png>'},
    )
    summaries = summarise(survey, [response], language="pl")
    file = report.report_file(survey, overview([response]), summaries, [], translator, "pl", WARSAW)
    page = read_page(file.content)
    assert "script" not in page.tags and page.sources == []
    assert "&lt;script&gt;" in file.content.decode()


async def test_chart_carries_its_source_at_the_foot(answered: Any, translator: Translator) -> None:
    survey, responses = answered
    summaries = summarise(survey, responses, language="pl")
    often = summaries[0]
    footer = chart_footer(survey, overview(responses), translator, "pl", WARSAW)
    assert footer.startswith("Diagnoza potrzeb kulturalnych · " + DATES)
    plain = chart_png(often.question, often, language="pl", translator=translator)
    signed = chart_png(often.question, often, language="pl", translator=translator, footer=footer)
    assert plain is not None and signed is not None
    top, full = imread(BytesIO(plain)), imread(BytesIO(signed))
    assert full.shape[1] == top.shape[1] == 1080 and full.shape[0] > top.shape[0]
    # The chart is drawn the same (to a pixel of rounding); the footer is added below it.
    height = top.shape[0]
    assert any((full[shift : height - 1 + shift] == top[: height - 1]).all() for shift in (0, 1))
    assert full[height:].min() < 0.6


async def test_short_summary_is_one_message_with_dates_respondents_and_findings(
    answered: Any, translator: Translator
) -> None:
    survey, responses = answered
    summaries = coordinator_view(survey, responses)
    text = short_summary(
        survey, overview(responses), summaries, translator, "pl", WARSAW, open_answers=True
    )
    assert text.startswith(said("results.summary_title", title="Diagnoza potrzeb kulturalnych"))
    assert DATES in text and said("results.respondents", started=4, finished=3) in text
    assert said("results.headlines") in text
    assert (
        said(
            "results.headline_choice",
            question="Jak często bywasz w ośrodku?",
            label="Raz w tygodniu",
            percent="50%",
        )
        in text
    )
    assert (
        said(
            "results.headline_scale",
            question="Jak oceniasz ofertę ośrodka?",
            mean="3,75",
            min=1,
            max=5,
        )
        in text
    )
    assert text.endswith(said("results.summary_file_open"))
    assert len(text) < 1024  # fits a photo caption, let alone a message


def test_short_title_falls_back_to_the_question_cut_at_a_word() -> None:
    long = Question.model_validate(
        {
            "id": "zgoda",
            "type": "yesno",
            "text": "Świetnie! Czy możemy się z tobą skontaktować w sprawie inicjatyw lokalnych?",
        }
    )
    cut = long.short_text("pl")
    assert len(cut) <= 60 and cut.endswith("…") and " ".join(cut[:-1].split()) == cut[:-1]
    assert long.text.get("pl").startswith(cut[:-1])
    named = Question.model_validate(
        {**long.model_dump(), "short": {"pl": "Zgoda na kontakt", "en": "Consent"}}
    )
    assert (named.short_text("pl"), named.short_text("en")) == ("Zgoda na kontakt", "Consent")


def test_a_short_title_that_is_long_or_lacks_a_language_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "krotka.yaml"
    path.write_text(
        "slug: krotka\n"
        "title: Krótka\n"
        "intro: Wstęp\n"
        "outro: Dzięki\n"
        "questions:\n"
        "  - id: ocena\n"
        "    type: yesno\n"
        "    text: {pl: Czy było dobrze, en: Was it good}\n"
        "    short: {pl: Ocena}\n"
        "  - id: opis\n"
        "    type: yesno\n"
        "    text: Czy coś jeszcze\n"
        f"    short: {'bardzo ' * 10}długi\n",
        encoding="utf-8",
    )
    problems = [(p.line, p.message) for p in check_survey_file(path, WARSAW)]
    missing = note("content.error.no_text_survey", language="en", languages="pl, en")
    assert (9, missing) in problems, problems
    too_long = note("content.error.short_title", most=60, length=len(f"{'bardzo ' * 10}długi"))
    assert (13, too_long) in problems, problems


def test_shipped_surveys_give_every_charted_question_a_short_title() -> None:
    catalogue = load_surveys(CONTENT / "surveys", WARSAW)
    assert catalogue.problems == {} and catalogue.surveys
    for survey in catalogue.surveys.values():
        for question in answer_part(survey).questions:
            if question.type in CLOSED_TYPES:
                assert question.short is not None, (survey.slug, question.id)
                assert question.short.languages() in (None, {"pl", "en"})


async def test_results_are_one_summary_one_album_and_one_file(
    store_harness: ChatHarness,
) -> None:
    from tests.handlers.surveys.test_results_share import EMAIL, PHONE, two_answered

    harness = store_harness
    coordinator = await two_answered(harness)
    shown = coordinator.seen[-3:]
    # The last /results: exactly three messages.
    replies = await coordinator.send("/results probna")
    assert len(replies) == 3
    summary, album, document = replies
    assert not summary.file and not summary.album and not summary.buttons
    assert said("results.summary_title", title="Ankieta próbna") in summary.text
    assert said("results.respondents", started=2, finished=2) in summary.text
    assert album.file is None and len(album.album) >= 5
    assert all(f.mime_type == "image/png" and f.content[:8] == PNG for f in album.album)
    assert len({f.name for f in album.album}) == len(album.album)
    assert document.file is not None and document.file.mime_type == "text/html"
    assert [b.label for row in document.buttons for b in row] == [said("surveyadmin.share")]
    page = read_page(document.file.content)
    assert len(page.figures) == len(album.album)
    html = document.file.content.decode()
    assert PHONE not in html and EMAIL not in html
    assert [r.text for r in shown] == [r.text for r in replies]
