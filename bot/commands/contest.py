"""`lokalnie contest check` and `lokalnie proposals list|export|show`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from bot.cli_support import fail, guarded, with_service
from bot.commands.output import check_format, write_out
from bot.config import load_settings

contest_app = typer.Typer(help="The contest for local initiatives.", no_args_is_help=True)
proposals_app = typer.Typer(
    help="Contest proposals: list, show one, export everything.", no_args_is_help=True
)


@contest_app.command("check")
def contest_check(
    path: Annotated[
        Path | None, typer.Argument(help="The contest file (default: CONTENT_DIR/contest.yaml).")
    ] = None,
) -> None:
    """Validate the contest file; prints every problem with its line."""
    from handlers.contest.files import CONTEST_FILE, check_contest_file

    settings = guarded(load_settings)
    target = path if path is not None else settings.content_dir / CONTEST_FILE
    problems = check_contest_file(target, settings.timezone_info)
    if problems:
        for problem in problems:
            typer.echo(problem.format(str(target)))
        raise typer.Exit(1)
    typer.echo(f"{target}: OK")


def _contest(service: Any) -> Any:
    contest = service.services.contest
    if contest is None:
        fail("no contest: content/contest.yaml is missing or has problems (lokalnie contest check)")
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


@proposals_app.command("list")
def proposals_list(
    format: Annotated[str, typer.Option("--format", help="table, json, csv or xlsx")] = "table",
    out: Annotated[Path | None, typer.Option(help="Write to this file (default: stdout).")] = None,
) -> None:
    """Submitted proposals: number, status, title, applicant, amount, score, rank."""
    _proposals_out(format, out, full=False)


@proposals_app.command("export")
def proposals_export(
    format: Annotated[str, typer.Option("--format", help="table, json, csv or xlsx")] = "csv",
    out: Annotated[Path | None, typer.Option(help="Write to this file (default: stdout).")] = None,
) -> None:
    """Everything: every field, budget line, attachment, score and status change."""
    _proposals_out(format, out, full=True)


@proposals_app.command("show")
def proposals_show(
    number: Annotated[str, typer.Argument(help="The proposal's number, e.g. KP-2021-007.")],
    format: Annotated[str, typer.Option("--format", help="table or json")] = "table",
) -> None:
    """One proposal in full."""
    from handlers.contest import exports as proposal_exports
    from handlers.contest import records as proposal_records

    check_format(format, None, ("table", "json"))

    async def work(service: Any) -> bytes:
        contest = _contest(service)
        async with service.store.transaction() as session:
            found = await proposal_records.records(
                session, contest, drafts=True, numbers=[number.upper()]
            )
        if not found:
            fail(f"no proposal '{number}' in the contest {contest.slug}")
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
