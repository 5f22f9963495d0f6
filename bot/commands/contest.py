"""`lokalnie contest check` and `lokalnie proposals list|export|show`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from bot.cli_support import cli_text, fail, guarded, with_service
from bot.commands.output import FORMATS, check_format, format_help, write_out
from bot.config import load_settings

contest_app = typer.Typer(help=cli_text("cli.help.contest"), no_args_is_help=True)
proposals_app = typer.Typer(help=cli_text("cli.help.proposals"), no_args_is_help=True)
SHOW_FORMATS = ("table", "json")


@contest_app.command("check", help=cli_text("cli.help.contest_check"))
def contest_check(
    path: Annotated[Path | None, typer.Argument(help=cli_text("cli.help.contest_file"))] = None,
) -> None:
    from handlers.contest.files import CONTEST_FILE, check_contest_file, label_warnings

    settings = guarded(load_settings)
    target = path if path is not None else settings.content_dir / CONTEST_FILE
    problems = check_contest_file(target, settings.timezone_info)
    if problems:
        for problem in problems:
            typer.echo(problem.format(str(target), cli_text))
        raise typer.Exit(1)
    for warning in label_warnings(target):
        typer.echo(cli_text("cli.survey_warning", problem=warning.format(str(target), cli_text)))
    typer.echo(f"{target}: OK")


def _contest(service: Any) -> Any:
    contest = service.services.contest
    if contest is None:
        fail(cli_text("cli.no_contest"))
    return contest


def _proposals_out(format: str, out: Path | None, *, full: bool) -> None:
    """Every proposal of the contest in `format`, to `out` or stdout."""
    from handlers.contest import exports as proposal_exports
    from handlers.contest import exports_xlsx
    from handlers.contest import records as proposal_records

    check_format(format, out)

    async def work(service: Any) -> bytes:
        contest = _contest(service)
        async with service.store.transaction() as session:
            found = await proposal_records.records(session, contest)
        options = {
            "language": service.settings.default_language,
            "translator": service.services.translator,
            "timezone": service.services.timezone,
        }
        if format == "json":
            return proposal_exports.to_json(contest, found)
        if format == "csv":
            return proposal_exports.to_csv(contest, found, full=full, **options)
        if format == "xlsx":
            return exports_xlsx.to_xlsx(contest, found, full=full, **options)
        return proposal_exports.to_table(contest, found, **options).encode()

    write_out(with_service(work), out)


@proposals_app.command("list", help=cli_text("cli.help.proposals_list"))
def proposals_list(
    format: Annotated[str, typer.Option("--format", help=format_help(FORMATS))] = "table",
    out: Annotated[Path | None, typer.Option(help=cli_text("cli.help.out"))] = None,
) -> None:
    _proposals_out(format, out, full=False)


@proposals_app.command("export", help=cli_text("cli.help.proposals_export"))
def proposals_export(
    format: Annotated[str, typer.Option("--format", help=format_help(FORMATS))] = "csv",
    out: Annotated[Path | None, typer.Option(help=cli_text("cli.help.out"))] = None,
) -> None:
    _proposals_out(format, out, full=True)


@proposals_app.command("show", help=cli_text("cli.help.proposals_show"))
def proposals_show(
    number: Annotated[str, typer.Argument(help=cli_text("cli.help.proposal_number"))],
    format: Annotated[str, typer.Option("--format", help=format_help(SHOW_FORMATS))] = "table",
) -> None:
    from handlers.contest import exports as proposal_exports
    from handlers.contest import records as proposal_records

    check_format(format, None, SHOW_FORMATS)

    async def work(service: Any) -> bytes:
        contest = _contest(service)
        async with service.store.transaction() as session:
            found = await proposal_records.records(
                session, contest, drafts=True, numbers=[number.upper()]
            )
        if not found:
            fail(
                cli_text(
                    "cli.no_proposal",
                    number=number,
                    contest=contest.name.get(service.settings.default_language),
                )
            )
        if format == "json":
            data = proposal_exports.record_json(found[0])
            return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode()
        return proposal_exports.show_text(
            contest,
            found[0],
            language=service.settings.default_language,
            translator=service.services.translator,
            timezone=service.services.timezone,
        ).encode()

    write_out(with_service(work), None)
