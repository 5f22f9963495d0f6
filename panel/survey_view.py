"""A survey's results as a filtered view: the filter read from a link, the numbers, the charts.

Everything is the chat's own code (`handlers/surveys/results.py`, `report.py`,
`filters.py`); this module reads the filter from the query (so a filtered view
is a link), loads and narrows the responses, and keeps the drawn charts: drawing
takes a fraction of a second per chart, so the charts of the last views are kept,
keyed by the numbers they show (new answers make new numbers, hence new charts).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from handlers.core.forms import Survey
from handlers.surveys import filters, results
from handlers.surveys.parts import is_personal
from handlers.surveys.report import Chart, draw_charts
from storage import surveys as survey_store
from storage.surveys import StoredResponse

if TYPE_CHECKING:
    from panel.base import PanelHandler

KEPT_CHARTS = 32
_charts: OrderedDict[str, list[Chart]] = OrderedDict()
# Views of the last links opened, kept while the survey's fingerprint in the store
# (storage.surveys.fingerprint) is unchanged: loading 5,000 responses takes most of
# a second, the fingerprint a few milliseconds.
KEPT_VIEWS = 16
_views: OrderedDict[tuple[object, ...], View] = OrderedDict()


@dataclass
class View:
    survey: Survey
    filter: filters.ResponseFilter
    choices: list[filters.AnswerChoice]
    responses: list[StoredResponse]
    overview: results.SurveyOverview
    # What may be shown: names, phones and e-mails stay in the exports and the leaders list.
    summaries: list[results.QuestionSummary]

    @property
    def query(self) -> str:
        """The filter as a query string, for links to the report and the exports."""
        pairs: list[tuple[str, str]] = [("channel", c) for c in self.filter.channels]
        if self.filter.since:
            pairs.append(("from", self.filter.since.isoformat()))
        if self.filter.until:
            pairs.append(("to", self.filter.until.isoformat()))
        pairs += [("answer", f"{q}={v}") for q, v in self.filter.answers]
        return f"?{urlencode(pairs)}" if pairs else ""


def survey_of(handler: PanelHandler, slug: str) -> Survey | None:
    return handler.panel.services.surveys.get(slug)


def read_filter(
    handler: PanelHandler, choices: list[filters.AnswerChoice]
) -> filters.ResponseFilter:
    """The filter in the link; what is not understood is left out, never an error."""
    channels = tuple(c for c in filters.CHANNELS if c in handler.get_query_arguments("channel"))
    answers = []
    for key in handler.get_query_arguments("answer"):
        found = filters.parse_answer(key, choices)
        if found is not None and found not in answers:
            answers.append(found)
    return filters.ResponseFilter(
        channels=channels,
        since=_day(handler.get_query_argument("from", "")),
        until=_day(handler.get_query_argument("to", "")),
        answers=tuple(answers),
    )


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


async def load_view(handler: PanelHandler, survey: Survey) -> View:
    services = handler.panel.services
    choices = filters.answer_choices(survey, services.translator, handler.language)
    wanted = read_filter(handler, choices)
    async with handler.transaction() as session:
        # The survey as written is in the key: an edited file makes a new view.
        content = hashlib.sha256(survey.model_dump_json().encode()).hexdigest()
        key: tuple[object, ...] = (content, handler.language, wanted)
        key += await survey_store.fingerprint(session, survey.slug)
        if key in _views:
            _views.move_to_end(key)
            return _views[key]
        loaded = await results.load_results(session, survey, channels=wanted.channels or None)
    responses = wanted.apply(loaded, services.timezone)
    summaries = [
        s
        for s in results.summarise(survey, responses, language=handler.language)
        if not is_personal(s.question)
    ]
    view = View(survey, wanted, choices, responses, results.overview(responses), summaries)
    _views[key] = view
    while len(_views) > KEPT_VIEWS:
        _views.popitem(last=False)
    return view


async def charts_of(handler: PanelHandler, view: View) -> list[Chart]:
    """The view's charts, drawn in a worker thread (the server goes on answering) or kept."""
    services, language = handler.panel.services, handler.language
    key = _key(view, language)
    if key in _charts:
        _charts.move_to_end(key)
        return _charts[key]
    drawn = await asyncio.to_thread(
        draw_charts,
        view.survey,
        view.overview,
        view.summaries,
        services.translator,
        language,
        services.timezone,
    )
    _charts[key] = drawn
    while len(_charts) > KEPT_CHARTS:
        _charts.popitem(last=False)
    return drawn


def _key(view: View, language: str) -> str:
    """What the charts show: the survey as written, the language and every number."""
    numbers = [(s.id, s.answered, s.skipped, s.counts, s.items, s.stats) for s in view.summaries]
    source = repr((view.survey.model_dump_json(), language, view.overview, numbers))
    return hashlib.sha256(source.encode("utf-8")).hexdigest()
