"""The coordinator's survey tools in the chat: /results, /export, /leaders.

/results answers with three things a phone can hold: one short summary, the
charts as one album and the full report as one printable file.
"""

from __future__ import annotations

from dataclasses import dataclass

from handlers.core.admin import AdminOpen
from handlers.core.context import Context
from handlers.core.events import Button, OutgoingFile, Reply
from handlers.core.forms import Survey
from handlers.core.routing import Router
from handlers.surveys import results, results_text
from handlers.surveys.buttons import ExportPick, ResultsPick, ResultsShare, SurveyChosen
from handlers.surveys.parts import is_personal
from storage import surveys as store

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def _survey_list(ctx: Context, press: type[SurveyChosen], key: str) -> list[Reply]:
    """Every survey with its counts, as buttons of the kind `press`."""
    if not ctx.services.surveys:
        return [ctx.reply("surveyadmin.no_surveys")]
    counts = await store.counts(ctx.session)
    # The counts in the text, whole; the buttons carry the titles (cut to fit a phone).
    lines, buttons = [ctx.t(key)], []
    for survey in ctx.services.surveys.values():
        numbers = counts.get(survey.slug, {"started": 0, "finished": 0})
        title = survey.title.get(ctx.language)
        line = ctx.t(
            "surveyadmin.survey_button",
            title=title,
            started=numbers["started"],
            finished=numbers["finished"],
        )
        lines.append(f"• {line}")
        buttons.append([Button(title, press(survey.slug).pack())])
    return [Reply("\n".join(lines), buttons)]


def _chosen(ctx: Context, slug: str) -> Survey | None:
    return ctx.services.surveys.get(slug.strip().lower())


router = Router("surveys.admin")


@router.command("results", coordinator_only=True, order=91)
async def results_command(ctx: Context) -> list[Reply]:
    survey = _chosen(ctx, ctx.event.args) if ctx.event.args else None
    if survey is None:
        return await _survey_list(ctx, ResultsPick, "surveyadmin.pick")
    return await results_of(ctx, survey)


@router.admin_action("results", "admin.results")
async def results_from_panel(ctx: Context, pressed: AdminOpen) -> list[Reply]:
    return await _survey_list(ctx, ResultsPick, "surveyadmin.pick")


@router.choice(ResultsPick, coordinator_only=True)
async def on_results(ctx: Context, pressed: ResultsPick) -> list[Reply]:
    survey = _chosen(ctx, pressed.slug)
    if survey is None:
        return [ctx.reply("input.stale_button")]
    return await results_of(ctx, survey)


@dataclass
class ResultMessages:
    """What a results message set is made of, for /results and for sharing."""

    summary: Reply
    album: Reply | None
    report: Reply

    def replies(self) -> list[Reply]:
        return [self.summary, *([self.album] if self.album else []), self.report]


def result_messages(
    ctx: Context,
    survey: Survey,
    overview: results.SurveyOverview,
    summaries: list[results.QuestionSummary],
    *,
    report_caption: str,
    interim: bool = False,
    picked: list[str] | None = None,
) -> ResultMessages:
    """One short summary, the charts as one album, the full report as one file.

    `summaries` are the questions that may be shown to whoever gets the messages.
    """
    from handlers.surveys import report  # when used (see report.draw_charts)

    translator, language, timezone = ctx.services.translator, ctx.language, ctx.services.timezone
    charts = report.draw_charts(survey, overview, summaries, translator, language, timezone)
    has_open = bool(picked) or any(s.answers or s.other_texts for s in summaries)
    text = results_text.short_summary(
        survey, overview, summaries, translator, language, timezone, open_answers=has_open
    )
    if interim:
        text = f"{ctx.t('surveyadmin.share_interim_head')}\n\n{text}"
    album = None
    if charts:
        caption = ctx.t("results.album", title=survey.title.get(language), count=len(charts))
        album = Reply(caption, album=[chart.file(survey.slug) for chart in charts])
    file = report.report_file(
        survey,
        overview,
        summaries,
        charts,
        translator,
        language,
        timezone,
        interim=interim,
        picked=picked or [],
    )
    return ResultMessages(Reply(text), album, Reply(report_caption, file=file))


async def results_of(ctx: Context, survey: Survey) -> list[Reply]:
    """The coordinator's results: a summary, the charts, the report; and a way to share them."""
    responses = await results.load_results(ctx.session, survey)
    overview = results.overview(responses)
    summaries = [
        # Names, phones and e-mails stay in /export and /leaders, not in a report for a meeting.
        s
        for s in results.summarise(survey, responses, language=ctx.language)
        if not is_personal(s.question)
    ]
    caption = f"{ctx.t('surveyadmin.report')}\n\n{ctx.t('surveyadmin.share_offer')}"
    messages = result_messages(ctx, survey, overview, summaries, report_caption=caption)
    share = Button(ctx.t("surveyadmin.share"), ResultsShare(survey.slug).pack())
    messages.report.buttons = [[share]]
    return messages.replies()


@router.command("export", coordinator_only=True, order=92)
async def export_command(ctx: Context) -> list[Reply]:
    survey = _chosen(ctx, ctx.event.args) if ctx.event.args else None
    if survey is None:
        return await _survey_list(ctx, ExportPick, "surveyadmin.pick_export")
    return await export_of(ctx, survey)


@router.choice(ExportPick, coordinator_only=True)
async def on_export(ctx: Context, pressed: ExportPick) -> list[Reply]:
    survey = _chosen(ctx, pressed.slug)
    if survey is None:
        return [ctx.reply("input.stale_button")]
    return await export_of(ctx, survey)


async def export_of(ctx: Context, survey: Survey) -> list[Reply]:
    from handlers.surveys import exports, exports_xlsx  # when used (see _result_messages)

    translator, language = ctx.services.translator, ctx.language
    responses = await results.load_results(ctx.session, survey)
    options = {"language": language, "translator": translator, "timezone": ctx.services.timezone}
    xlsx = exports_xlsx.to_xlsx(survey, responses, **options)
    csv = exports.to_csv(survey, responses, **options)
    count = len(responses)
    return [
        Reply(
            ctx.t("surveyadmin.export_xlsx", count=count),
            file=OutgoingFile(f"{survey.slug}.xlsx", XLSX, xlsx),
        ),
        Reply(
            ctx.t("surveyadmin.export_csv"),
            file=OutgoingFile(f"{survey.slug}.csv", "text/csv", csv),
        ),
    ]


@router.command("leaders", coordinator_only=True, order=93)
async def leaders_command(ctx: Context) -> list[Reply]:
    with_leaders = [s for s in ctx.services.surveys.values() if s.leaders is not None]
    if not with_leaders:
        return [ctx.reply("surveyadmin.no_leader_surveys")]
    replies = []
    for survey in with_leaders:
        volunteers = await results.volunteers(ctx.session, survey, language=ctx.language)
        title = survey.title.get(ctx.language)
        text = results_text.leaders_text(survey, volunteers, ctx.services.translator, ctx.language)
        replies.append(Reply(f"{title}\n\n{text}"))
    return replies
