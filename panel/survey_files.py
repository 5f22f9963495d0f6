"""A survey's personal data: the XLSX/CSV exports and the leaders list, each use audit-logged.

The exports are the chat's /export files (`handlers/surveys/exports.py`,
`exports_xlsx.py`) of the responses the filter in the link keeps (all of them
without one); the leaders are /leaders's: only residents who said yes to being
contacted (`handlers/surveys/results.volunteers`).
"""

from __future__ import annotations

from urllib.parse import quote

from handlers.surveys import exports, exports_xlsx, results
from handlers.surveys.admin import XLSX
from panel import audit
from panel.base import PanelHandler
from panel.survey_view import load_view, survey_of

CSV = "text/csv; charset=utf-8"


def send_file(handler: PanelHandler, name: str, mime_type: str, content: bytes) -> None:
    handler.set_header("Content-Type", mime_type)
    handler.set_header("Content-Disposition", f"attachment; filename*=UTF-8''{quote(name)}")
    handler.finish(content)


class SurveyExport(PanelHandler):
    async def get(self, slug: str, kind: str) -> None:
        survey = survey_of(self, slug)
        if survey is None:
            self.refuse(404, "panel.not_found")
            return
        services = self.panel.services
        view = await load_view(self, survey)
        options = {
            "language": self.language,
            "translator": services.translator,
            "timezone": services.timezone,
        }
        if kind == "xlsx":
            content, mime_type = exports_xlsx.to_xlsx(survey, view.responses, **options), XLSX
        else:
            content, mime_type = exports.to_csv(survey, view.responses, **options), CSV
        async with self.transaction() as session:
            await audit.record(
                session,
                self,
                "survey_export",
                survey.slug,
                format=kind,
                responses=len(view.responses),
                **({"filter": view.query.removeprefix("?")} if view.query else {}),
            )
        send_file(self, f"{survey.slug}.{kind}", mime_type, content)


class SurveyLeaders(PanelHandler):
    async def get(self, slug: str) -> None:
        survey = survey_of(self, slug)
        if survey is None or survey.leaders is None:
            self.refuse(404, "panel.not_found")
            return
        questions = {q.id: q.text.get(self.language) for q in survey.questions}
        async with self.transaction() as session:
            found = await results.volunteers(session, survey, language=self.language)
            await audit.record(session, self, "survey_leaders", survey.slug, people=len(found))
        rows = [
            {
                "name": volunteer.name
                or (self.t("results.leader_erased") if volunteer.resident_id is None else ""),
                "interest": ", ".join(volunteer.interest),
                "contact": [(questions.get(q, q), value) for q, value in volunteer.contact.items()],
            }
            for volunteer in found
        ]
        self.render_page(
            "survey_leaders.html",
            slug=survey.slug,
            title=survey.title.get(self.language),
            rows=rows,
        )


ROUTES = [
    (r"/surveys/([a-z0-9_-]+)/export\.(xlsx|csv)", SurveyExport),
    (r"/surveys/([a-z0-9_-]+)/leaders", SurveyLeaders),
]
