"""The coordinator's survey tools in the chat: /results, /export, /leaders."""

from __future__ import annotations

from typing import Any

from handlers.core.admin import AdminOpen
from handlers.core.context import Context
from handlers.core.events import Button, OutgoingFile, Reply
from handlers.core.forms import Survey
from handlers.core.routing import Router
from handlers.surveys import results, results_text
from handlers.surveys.buttons import ExportPick, ResultsPick, ResultsShare, SurveyChosen
from storage import surveys as store

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def _survey_list(ctx: Context, press: type[SurveyChosen], key: str) -> list[Reply]:
    """Every survey with its counts, as buttons of the kind `press`."""
    if not ctx.services.surveys:
        return [ctx.reply("surveyadmin.no_surveys")]
    counts = await store.counts(ctx.session)
    buttons = []
    for survey in ctx.services.surveys.values():
        numbers = counts.get(survey.slug, {"started": 0, "finished": 0})
        label = ctx.t(
            "surveyadmin.survey_button",
            title=survey.title.get(ctx.language),
            started=numbers["started"],
            finished=numbers["finished"],
        )
        buttons.append([Button(label, press(survey.slug).pack())])
    return [ctx.reply(key, buttons=buttons)]


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


async def _result_messages(ctx: Context, survey: Survey) -> tuple[list[Reply], list[Any]]:
    """The coordinator's summary as texts and a chart per closed question."""
    translator, language = ctx.services.translator, ctx.language
    responses = await results.load_results(ctx.session, survey)
    overview = results.overview(responses)
    summaries = results.summarise(survey, responses, language=language)
    replies = [
        Reply(text)
        for text in results_text.summary_messages(survey, overview, summaries, translator, language)
    ]
    replies += chart_replies(ctx, survey, summaries)
    return replies, [responses, summaries]


def chart_replies(
    ctx: Context, survey: Survey, summaries: list[results.QuestionSummary]
) -> list[Reply]:
    """A chart per closed question, numbered as in the summary."""
    # Imported when a coordinator asks: matplotlib and numpy are tens of megabytes
    # the running bot need not hold for its residents' conversations.
    from handlers.surveys import charts

    translator, language = ctx.services.translator, ctx.language
    replies = []
    for number, summary in enumerate(summaries, start=1):
        image = charts.chart_png(
            summary.question, summary, language=language, translator=translator
        )
        if image is not None:
            name = f"{survey.slug}-{number:02d}-{summary.id}.png"
            caption = ctx.t("surveyadmin.chart_caption", number=number, text=summary.text[:900])
            replies.append(Reply(caption, file=OutgoingFile(name, "image/png", image)))
    return replies


async def results_of(ctx: Context, survey: Survey) -> list[Reply]:
    """A summary per question, a chart per closed question, open answers as a file."""
    from handlers.surveys import exports  # when used (see _result_messages)

    translator, language = ctx.services.translator, ctx.language
    replies, (responses, summaries) = await _result_messages(ctx, survey)
    share = Button(ctx.t("surveyadmin.share"), ResultsShare(survey.slug).pack())
    replies.append(Reply(ctx.t("surveyadmin.share_offer"), [[share]]))
    if any(s.answers or s.other_texts for s in summaries):
        content = exports.open_answers_text(
            survey, responses, language=language, translator=translator
        )
        name = (
            f"{survey.slug}-odpowiedzi-otwarte.txt"
            if language == "pl"
            else (f"{survey.slug}-open-answers.txt")
        )
        replies.append(
            Reply(ctx.t("surveyadmin.open_answers"), file=OutgoingFile(name, "text/plain", content))
        )
    return replies


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
