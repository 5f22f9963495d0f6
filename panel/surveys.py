"""Surveys: the list, one survey's results with filters, the printable report (HTML and PDF).

The numbers, charts and report are the chat's /results (`handlers/surveys/`),
of the responses the filter in the link keeps (`panel/survey_view.py`); the
exports and the leaders list are in `panel/survey_files.py`.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from urllib.parse import quote

from handlers.core.forms import Survey
from handlers.onbehalf.counts import counts_line
from handlers.surveys import filters, report, report_pdf, results_text
from panel import survey_files
from panel.base import PanelHandler
from panel.survey_view import View, charts_of, load_view, survey_of
from storage import surveys as store

# The report is a page of its own: its inline style and embedded charts, nothing else.
REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
)


STATES = ("open", "closed", "planned")


def state_of(survey: Survey, now: datetime) -> str:
    """One of STATES: "planned" is not open yet."""
    if survey.opens is not None and now < survey.opens:
        return "planned"
    if survey.closes is not None and now >= survey.closes:
        return "closed"
    return "open"


class SurveyList(PanelHandler):
    async def get(self) -> None:
        services = self.panel.services
        async with self.transaction() as session:
            counts = await store.counts(session)
        now = services.clock()
        rows = []
        for survey in services.surveys.values():
            numbers = counts.get(survey.slug, {"started": 0, "finished": 0})
            state = state_of(survey, now)
            rows.append(
                {
                    "slug": survey.slug,
                    "title": survey.title.get(self.language),
                    "dates": results_text.dates_text(
                        survey, services.translator, self.language, services.timezone
                    ),
                    "started": numbers["started"],
                    "finished": numbers["finished"],
                    "state": self.t(f"panel.surveys.state.{state}"),
                }
            )
        self.render_page("surveys.html", rows=rows)


def filter_note(handler: PanelHandler, view: View) -> str:
    """Which responses a filtered view counts, in words ("" when all)."""
    wanted = view.filter
    if wanted.empty:
        return ""
    t = handler.t
    parts = [", ".join(t(f"panel.surveys.channel.{c}") for c in wanted.channels)]
    if wanted.since:
        parts.append(t("panel.surveys.note_since", day=wanted.since.isoformat()))
    if wanted.until:
        parts.append(t("panel.surveys.note_until", day=wanted.until.isoformat()))
    labels = {(c.question, c.value): f"{c.question_text}: {c.label}" for c in view.choices}
    parts += [labels[pair] for pair in wanted.answers]
    return t("panel.surveys.filtered", filters="; ".join(p for p in parts if p))


class SurveyResults(PanelHandler):
    async def get(self, slug: str) -> None:
        survey = survey_of(self, slug)
        if survey is None:
            self.refuse(404, "panel.not_found")
            return
        services, language = self.panel.services, self.language
        view = await load_view(self, survey)
        charts = await charts_of(self, view)
        translator, timezone = services.translator, services.timezone
        sections = report.report_sections(view.summaries, charts, translator, language)
        chosen = {f"{q}={v}" for q, v in view.filter.answers}
        self.render_page(
            "survey.html",
            slug=survey.slug,
            title=survey.title.get(language),
            dates=results_text.dates_text(survey, translator, language, timezone),
            respondents=results_text.respondents_text(view.overview, translator, language),
            entered=counts_line(view.overview.entered, translator, language) or "",
            note=filter_note(self, view),
            headlines=results_text.headlines(view.summaries, translator, language),
            sections=sections,
            footer=results_text.chart_footer(survey, view.overview, translator, language, timezone),
            query=view.query,
            leaders=survey.leaders is not None,
            nobody=view.overview.started == 0,
            form=_form(self, view, chosen),
        )


def _form(handler: PanelHandler, view: View, chosen: set[str]) -> dict[str, Any]:
    """The filter form's fields with what the link chose."""
    wanted = view.filter
    return {
        "channels": [
            (c, handler.t(f"panel.surveys.channel.{c}"), c in wanted.channels)
            for c in filters.CHANNELS
        ],
        "since": wanted.since.isoformat() if wanted.since else "",
        "until": wanted.until.isoformat() if wanted.until else "",
        "chosen": [
            (c.key, f"{c.question_text}: {c.label}") for c in view.choices if c.key in chosen
        ],
        "choices": [(c.question_text, c.key, c.label) for c in view.choices if c.key not in chosen],
    }


class SurveyReport(PanelHandler):
    """The chat's printable report of the filtered view: HTML to print, or a PDF."""

    async def get(self, slug: str, kind: str) -> None:
        survey = survey_of(self, slug)
        if survey is None:
            self.refuse(404, "panel.not_found")
            return
        services, language = self.panel.services, self.language
        view = await load_view(self, survey)
        charts = await charts_of(self, view)
        note = filter_note(self, view)
        made = (view.survey, view.overview, view.summaries, charts, services.translator)
        if kind == "pdf":
            content = await asyncio.to_thread(
                report_pdf.report_pdf, *made, language, services.timezone, note=note
            )
            name = report.report_name(survey, services.translator, language)
            survey_files.send_file(
                self, f"{name.removesuffix('.html')}.pdf", report_pdf.PDF, content
            )
            return
        file = report.report_file(*made, language, services.timezone, note=note)
        self.set_header("Content-Security-Policy", REPORT_CSP)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Content-Disposition", f"inline; filename*=UTF-8''{quote(file.name)}")
        self.finish(file.content)


NAV = ("panel.nav.surveys", "/surveys")
ROUTES = [
    (r"/surveys", SurveyList),
    (r"/surveys/([a-z0-9_-]+)", SurveyResults),
    (r"/surveys/([a-z0-9_-]+)/report\.(html|pdf)", SurveyReport),
    *survey_files.ROUTES,
]
