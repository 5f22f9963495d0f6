"""`lokalnie survey`: check a survey file, list surveys, results, charts, volunteers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from bot.cli_support import cli_text, fail, guarded, with_service
from bot.commands.output import check_format, format_help, write_out
from bot.config import load_settings

survey_app = typer.Typer(help=cli_text("cli.help.survey"), no_args_is_help=True)
RESULT_FORMATS = ("table", "csv", "json", "xlsx")


def _survey(service: Any, slug: str) -> Any:
    survey = service.services.surveys.get(slug)
    if survey is None:
        known = ", ".join(service.services.surveys) or "-"
        fail(cli_text("cli.no_survey", slug=slug, known=known))
    return survey


@survey_app.command("check", help=cli_text("cli.help.survey_check"))
def survey_check(
    path: Annotated[Path, typer.Argument(help=cli_text("cli.help.survey_file"))],
) -> None:
    from handlers.surveys.files import check_survey_file, label_warnings

    settings = guarded(load_settings)
    problems = check_survey_file(path, settings.timezone_info)
    if problems:
        for problem in problems:
            typer.echo(problem.format(str(path), cli_text))
        raise typer.Exit(1)
    for warning in label_warnings(path):
        typer.echo(cli_text("cli.survey_warning", problem=warning.format(str(path), cli_text)))
    typer.echo(f"{path}: OK")


@survey_app.command("list", help=cli_text("cli.help.survey_list"))
def survey_list() -> None:
    from handlers.surveys.conversation import describe_survey
    from storage import surveys

    async def work(service: Any) -> None:
        async with service.store.transaction() as session:
            counts = await surveys.counts(session)
        for survey in service.services.surveys.values():
            typer.echo(describe_survey(service.services, survey, counts.get(survey.slug)))

    with_service(work)


@survey_app.command("results", help=cli_text("cli.help.survey_results"))
def survey_results(
    slug: Annotated[str, typer.Argument(help=cli_text("cli.help.survey_slug"))],
    format: Annotated[str, typer.Option("--format", help=format_help(RESULT_FORMATS))] = "table",
    out: Annotated[Path | None, typer.Option(help=cli_text("cli.help.out"))] = None,
) -> None:
    from handlers.surveys import exports, exports_xlsx, results

    check_format(format, out, RESULT_FORMATS)

    async def work(service: Any) -> bytes:
        survey = _survey(service, slug)
        async with service.store.transaction() as session:
            responses = await results.load_results(session, survey)
        options = {
            "language": service.settings.default_language,
            "translator": service.services.translator,
            "timezone": service.services.timezone,
        }
        if format == "json":
            return exports.to_json(survey, responses, language=options["language"])
        if format == "csv":
            return exports.to_csv(survey, responses, **options)
        if format == "xlsx":
            return exports_xlsx.to_xlsx(survey, responses, **options)
        return exports.to_table(survey, responses, **options).encode()

    write_out(with_service(work), out)


@survey_app.command("charts", help=cli_text("cli.help.survey_charts"))
def survey_charts(
    slug: Annotated[str, typer.Argument(help=cli_text("cli.help.survey_slug"))],
    out: Annotated[Path, typer.Option(help=cli_text("cli.help.charts_out"))],
) -> None:
    from handlers.surveys import report, results

    async def work(service: Any) -> list[Path]:
        survey = _survey(service, slug)
        language = service.settings.default_language
        async with service.store.transaction() as session:
            responses = await results.load_results(session, survey)
        out.mkdir(parents=True, exist_ok=True)
        summaries = results.summarise(survey, responses, language=language)
        services = service.services
        drawn = report.draw_charts(
            survey,
            results.overview(responses),
            summaries,
            services.translator,
            language,
            services.timezone,
        )
        written = []
        for chart in drawn:
            path = out / f"{chart.number:02d}-{chart.summary.id}.png"
            path.write_bytes(chart.png)
            written.append(path)
        return written

    for path in with_service(work):
        typer.echo(str(path))


@survey_app.command("report", help=cli_text("cli.help.survey_report"))
def survey_report(
    slug: Annotated[str, typer.Argument(help=cli_text("cli.help.survey_slug"))],
    out: Annotated[Path | None, typer.Option(help=cli_text("cli.help.out"))] = None,
) -> None:
    from handlers.surveys import report, results
    from handlers.surveys.parts import is_personal

    async def work(service: Any) -> bytes:
        survey = _survey(service, slug)
        language = service.settings.default_language
        translator, timezone = service.services.translator, service.services.timezone
        async with service.store.transaction() as session:
            responses = await results.load_results(session, survey)
        overview = results.overview(responses)
        summaries = [
            s
            for s in results.summarise(survey, responses, language=language)
            if not is_personal(s.question)
        ]
        drawn = report.draw_charts(survey, overview, summaries, translator, language, timezone)
        file = report.report_file(
            survey, overview, summaries, drawn, translator, language, timezone
        )
        return file.content

    write_out(with_service(work), out)


@survey_app.command("leaders", help=cli_text("cli.help.survey_leaders"))
def survey_leaders(
    slug: Annotated[str | None, typer.Argument(help=cli_text("cli.help.survey_slug"))] = None,
) -> None:
    from handlers.surveys import results, results_text

    async def work(service: Any) -> list[str]:
        chosen = (
            [_survey(service, slug)]
            if slug
            else [s for s in service.services.surveys.values() if s.leaders is not None]
        )
        language = service.settings.default_language
        texts = []
        for survey in chosen:
            async with service.store.transaction() as session:
                volunteers = await results.volunteers(session, survey, language=language)
            texts.append(
                f"{survey.title.get(language)}\n\n"
                + results_text.leaders_text(
                    survey, volunteers, service.services.translator, language
                )
            )
        return texts

    for text in with_service(work):
        typer.echo(text)
