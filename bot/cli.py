"""The `lokalnie` command: run, chat, db."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from bot.cli_support import configure_logging, fail, guarded, with_service
from bot.config import Settings, load_settings
from bot.mail.cli import mail_app

app = typer.Typer(help="Lokalnie: the culture centre's chatbot.", no_args_is_help=True)
db_app = typer.Typer(help="The store.", no_args_is_help=True)
app.add_typer(db_app, name="db")
survey_app = typer.Typer(help="Surveys: check files, list, results, charts.", no_args_is_help=True)
app.add_typer(survey_app, name="survey")
contest_app = typer.Typer(help="The contest for local initiatives.", no_args_is_help=True)
app.add_typer(contest_app, name="contest")
proposals_app = typer.Typer(
    help="Contest proposals: list, show one, export everything.", no_args_is_help=True
)
app.add_typer(proposals_app, name="proposals")

# Shared with the features' sub-apps (bot.cli_support); the old names stay for callers.
_logging = configure_logging
_with_service = with_service


def _chat(settings: Settings, user: int, coordinator: bool) -> None:
    from bot.app import Service

    async def main() -> None:
        service = Service(settings)
        try:
            await service.prepare()
            await service.run_console(user_id=user, coordinator=coordinator)
        finally:
            await service.close()

    asyncio.run(main())


@app.command()
def run() -> None:
    """Start the bot: Telegram when a token is configured, else the terminal chat."""
    settings = guarded(load_settings)
    _logging(settings, quiet=not settings.telegram_enabled)
    if not settings.telegram_enabled:
        from handlers.core.i18n import Translator

        texts = guarded(
            lambda: Translator(settings.content_dir / "locales", settings.default_language)
        )
        typer.echo(texts.text(settings.default_language, "console.no_token"))
        guarded(lambda: _chat(settings, 1, False))
        return

    from bot.app import Service, install_stop_signals

    async def main() -> None:
        service = Service(settings)
        try:
            await service.prepare()
            stop = asyncio.Event()
            install_stop_signals(stop)
            await service.run_telegram(stop)
        finally:
            await service.close()

    guarded(lambda: asyncio.run(main()))


@app.command()
def chat(
    user: Annotated[int, typer.Option(help="Be this resident (a Telegram-like user id).")] = 1,
    coordinator: Annotated[bool, typer.Option(help="Act as a coordinator.")] = False,
) -> None:
    """Talk to the bot in this terminal, on the configured store."""
    settings = guarded(load_settings)
    _logging(settings, quiet=True)
    guarded(lambda: _chat(settings, user, coordinator))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the store's schema up to date (the bot also does this on start)."""
    from storage.migrate import upgrade

    settings = guarded(load_settings)
    _logging(settings)
    upgrade(settings.database_url)
    typer.echo("lokalnie: the store is up to date")


@survey_app.command("check")
def survey_check(path: Annotated[Path, typer.Argument(help="The survey's YAML file.")]) -> None:
    """Validate one survey file; prints every problem with its line."""
    from handlers.surveys.files import check_survey_file

    settings = guarded(load_settings)
    problems = check_survey_file(path, settings.timezone_info)
    if problems:
        for problem in problems:
            typer.echo(problem.format(str(path)))
        raise typer.Exit(1)
    typer.echo(f"{path}: OK")


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


def _survey(service: Any, slug: str) -> Any:
    survey = service.services.surveys.get(slug)
    if survey is None:
        known = ", ".join(service.services.surveys) or "-"
        fail(f"no survey '{slug}' (known: {known})")
    return survey


@survey_app.command("list")
def survey_list() -> None:
    """Surveys with their dates and how many responses were started and finished."""
    from handlers.surveys.conversation import describe_survey
    from storage import surveys

    async def work(service: Any) -> None:
        async with service.store.transaction() as session:
            counts = await surveys.counts(session)
        for survey in service.services.surveys.values():
            typer.echo(describe_survey(service.services, survey, counts.get(survey.slug)))

    _with_service(work)


@survey_app.command("results")
def survey_results(
    slug: str,
    format: Annotated[str, typer.Option("--format", help="table, csv, json or xlsx")] = "table",
    out: Annotated[Path | None, typer.Option(help="Write to this file (default: stdout).")] = None,
) -> None:
    """Every response of a survey, as a table, CSV, JSON or XLSX."""
    from handlers.surveys import exports, results

    if format not in ("table", "csv", "json", "xlsx"):
        fail(f"--format must be table, csv, json or xlsx, not '{format}'")
    if format == "xlsx" and out is None:
        fail("--format xlsx needs --out FILE")

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
            return exports.to_xlsx(survey, responses, **options)
        return exports.to_table(survey, responses, **options).encode()

    content = _with_service(work)
    if out is None:
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
    else:
        out.write_bytes(content)
        typer.echo(f"{out}")


@survey_app.command("charts")
def survey_charts(
    slug: str, out: Annotated[Path, typer.Option(help="Folder for the PNG files.")]
) -> None:
    """One PNG chart per closed question of the survey."""
    from handlers.surveys import charts, results

    async def work(service: Any) -> list[Path]:
        survey = _survey(service, slug)
        language = service.settings.default_language
        async with service.store.transaction() as session:
            responses = await results.load_results(session, survey)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        summaries = results.summarise(survey, responses, language=language)
        for number, summary in enumerate(summaries, 1):
            image = charts.chart_png(
                summary.question, summary, language=language, translator=service.services.translator
            )
            if image is not None:
                path = out / f"{number:02d}-{summary.id}.png"
                path.write_bytes(image)
                written.append(path)
        return written

    for path in _with_service(work):
        typer.echo(str(path))


@survey_app.command("leaders")
def survey_leaders(slug: Annotated[str | None, typer.Argument()] = None) -> None:
    """Residents who would lead or join an initiative and agreed to be contacted."""
    from handlers.surveys import results

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
                responses = await results.load_results(session, survey)
            volunteers = results.leaders(survey, responses, language=language)
            texts.append(
                f"{survey.title.get(language)}\n\n"
                + results.leaders_text(survey, volunteers, service.services.translator, language)
            )
        return texts

    for text in _with_service(work):
        typer.echo(text)


FORMATS = ("table", "json", "csv", "xlsx")


def _contest(service: Any) -> Any:
    contest = service.services.contest
    if contest is None:
        fail("no contest: content/contest.yaml is missing or has problems (lokalnie contest check)")
    return contest


def _write(content: bytes, out: Path | None) -> None:
    if out is None:
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
    else:
        out.write_bytes(content)
        typer.echo(f"{out}")


def _proposals_out(format: str, out: Path | None, *, full: bool) -> None:
    """Every proposal of the contest in `format`, to `out` or stdout."""
    from handlers.contest import exports as proposal_exports
    from handlers.contest import records as proposal_records

    if format not in FORMATS:
        fail(f"--format must be table, json, csv or xlsx, not '{format}'")
    if format == "xlsx" and out is None:
        fail("--format xlsx needs --out FILE")

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
            return proposal_exports.to_xlsx(contest, found, full=full, **options)
        return proposal_exports.to_table(contest, found, **options).encode()

    _write(_with_service(work), out)


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

    if format not in ("table", "json"):
        fail(f"--format must be table or json, not '{format}'")

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

    _write(_with_service(work), None)


broadcast_app = typer.Typer(help="Broadcasts to residents.", no_args_is_help=True)
app.add_typer(broadcast_app, name="broadcast")
schedule_app = typer.Typer(help="What the bot will send and when.", no_args_is_help=True)
app.add_typer(schedule_app, name="schedule")


@broadcast_app.command("send")
def broadcast_send(
    text: Annotated[str, typer.Option(help="The message.")],
    audience: Annotated[
        str, typer.Option(help="subscribers, email, respondents:SLUG, applicants, winners, ...")
    ] = "subscribers",
    at: Annotated[
        str | None, typer.Option(help="When, in the centre's time: 'DD.MM.YYYY HH:MM'.")
    ] = None,
) -> None:
    """Queue a broadcast; the running bot sends it (now or at --at)."""
    from handlers.broadcasts import audiences
    from storage import schedule

    async def work(service: Any) -> str:
        services = service.services
        if not audiences.is_known(services, audience):
            known = ", ".join(key for key, _, _ in audiences.choices(services))
            fail(f"unknown audience '{audience}' (known: {known})")
        moment = _moment(service, at) if at else services.clock()
        async with service.store.transaction() as session:
            count = len(await audiences.resolve(session, services, audience))
            broadcast = await schedule.create_broadcast(
                session, created_by=None, text=text, audience=audience, scheduled_at=moment
            )
        return f"broadcast {broadcast.id}: {count} recipient(s), at {moment.isoformat()}"

    typer.echo(_with_service(work))


def _moment(service: Any, text: str) -> Any:
    from handlers.broadcasts.commands import parse_moment
    from handlers.core.flow import InvalidAnswer

    services = service.services
    try:
        return parse_moment(text, timezone=services.timezone, now=services.clock())
    except InvalidAnswer as error:
        language = service.settings.default_language
        fail(services.translator.text(language, error.key, **error.values))


@broadcast_app.command("status")
def broadcast_status(broadcast_id: Annotated[int | None, typer.Argument()] = None) -> None:
    """Progress of one broadcast, or a line per broadcast."""
    from storage import schedule

    async def work(service: Any) -> list[str]:
        lines = []
        async with service.store.transaction() as session:
            chosen = await schedule.broadcasts(session)
            if broadcast_id is not None:
                chosen = [b for b in chosen if b.id == broadcast_id]
                if not chosen:
                    fail(f"no broadcast {broadcast_id}")
            for b in chosen:
                p = await schedule.progress(session, b.id)
                lines.append(
                    f"{b.id}\t{b.status}\t{b.audience}\tsent {p['sent']} of {b.total}, "
                    f"waiting {p['waiting']}, blocked/failed {p['failed']}, "
                    f"cancelled {p['cancelled']}"
                )
        return lines

    for line in _with_service(work):
        typer.echo(line)


@broadcast_app.command("cancel")
def broadcast_cancel(broadcast_id: int) -> None:
    """Stop a broadcast: messages not sent yet will not be sent."""
    from storage import schedule

    async def work(service: Any) -> str:
        async with service.store.transaction() as session:
            broadcast = await schedule.get_broadcast(session, broadcast_id)
            if broadcast is None:
                fail(f"no broadcast {broadcast_id}")
            if broadcast.status in (schedule.DONE, schedule.CANCELLED):
                return f"broadcast {broadcast_id} is already {broadcast.status}"
            cancelled = await schedule.cancel_broadcast(session, broadcast)
        return f"broadcast {broadcast_id} cancelled; {cancelled} message(s) will not be sent"

    typer.echo(_with_service(work))


@schedule_app.command("list")
def schedule_list() -> None:
    """Every reminder, announcement and broadcast still to run, by time."""
    from handlers.broadcasts.plan import current_plan

    async def work(service: Any) -> list[str]:
        services = service.services
        async with service.store.transaction() as session:
            planned = await current_plan(
                session,
                surveys=services.surveys,
                contest=services.contest,
                rules=services.schedule_rules,
                now=services.clock(),
            )
        zone = services.timezone
        return [f"{job.run_at.astimezone(zone):%Y-%m-%d %H:%M}\t{job.id}" for job in planned]

    lines = _with_service(work)
    typer.echo("\n".join(lines) if lines else "nothing scheduled")


app.add_typer(mail_app, name="mail")  # lokalnie mail sync|list|show


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
