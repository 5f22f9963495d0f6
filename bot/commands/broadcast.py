"""`lokalnie broadcast send|status|cancel` and `lokalnie schedule list`.

A coordinator reads what will be sent by its title (the survey's, the contest's,
the first words of a broadcast) and when in the centre's time, never by job id.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from bot.cli_support import cli_text, fail, local_time, with_service

broadcast_app = typer.Typer(help=cli_text("cli.help.broadcast"), no_args_is_help=True)
schedule_app = typer.Typer(help=cli_text("cli.help.schedule"), no_args_is_help=True)
# How much of a broadcast's text names it in a list.
TEXT_START = 40


def text_start(text: str, width: int = TEXT_START) -> str:
    """The first words of a text, cut at a word with "…" when longer than `width`."""
    flat = " ".join(text.split())
    if len(flat) <= width:
        return flat
    cut = flat[: width - 1].rsplit(" ", 1)[0] if " " in flat[: width - 1] else flat[: width - 1]
    return cut.rstrip(" ,.;:–-") + "…"


def audience_label(services: Any, audience: str) -> str:
    """The audience as the bot's coordinator menu names it; the key when no longer offered."""
    from handlers.broadcasts import audiences

    language = services.translator.default_language
    for key, label_key, values in audiences.choices(services):
        if key == audience:
            return str(services.translator.text(language, label_key, **values))
    return audience


def _broadcast_line(services: Any, broadcast: Any, progress: dict[str, int]) -> str:
    return cli_text(
        "cli.broadcast_line",
        number=broadcast.id,
        text=text_start(broadcast.text or ""),
        state=cli_text(f"cli.broadcast_state.{broadcast.status}"),
        audience=audience_label(services, broadcast.audience),
        when=local_time(broadcast.scheduled_at or broadcast.created_at, services.timezone),
        sent=progress["sent"],
        total=broadcast.total,
        waiting=progress["waiting"],
        failed=progress["failed"],
        cancelled=progress["cancelled"],
    )


@broadcast_app.command("send", help=cli_text("cli.help.broadcast_send"))
def broadcast_send(
    text: Annotated[str, typer.Option(help=cli_text("cli.help.broadcast_text"))],
    audience: Annotated[str, typer.Option(help=cli_text("cli.help.broadcast_audience"))] = (
        "subscribers"
    ),
    at: Annotated[str | None, typer.Option(help=cli_text("cli.help.broadcast_at"))] = None,
) -> None:
    from handlers.broadcasts import audiences
    from storage import schedule
    from storage.changes import announce

    async def work(service: Any) -> str:
        services = service.services
        if not audiences.is_known(services, audience):
            known = ", ".join(key for key, _, _ in audiences.choices(services))
            fail(cli_text("cli.unknown_audience", audience=audience, known=known))
        moment = _moment(service, at) if at else services.clock()
        async with service.store.transaction() as session:
            count = len(await audiences.resolve(session, services, audience))
            broadcast = await schedule.create_broadcast(
                session, created_by=None, text=text, audience=audience, scheduled_at=moment
            )
            await announce(session)
        # Queued, not started: only the running bot delivers, so say when it will.
        if at is None:
            return cli_text("cli.broadcast_queued_now", number=broadcast.id, count=count)
        return cli_text(
            "cli.broadcast_queued_at",
            number=broadcast.id,
            count=count,
            when=local_time(moment, services.timezone),
            zone=services.timezone.key,
        )

    typer.echo(with_service(work))


def _moment(service: Any, text: str) -> Any:
    from handlers.broadcasts.commands import parse_moment
    from handlers.core.flow import InvalidAnswer

    services = service.services
    try:
        return parse_moment(text, timezone=services.timezone, now=services.clock())
    except InvalidAnswer as error:
        language = service.settings.default_language
        fail(services.translator.text(language, error.key, **error.values))


@broadcast_app.command("status", help=cli_text("cli.help.broadcast_status"))
def broadcast_status(
    broadcast_id: Annotated[
        int | None, typer.Argument(help=cli_text("cli.help.broadcast_number"))
    ] = None,
) -> None:
    from storage import schedule

    async def work(service: Any) -> list[str]:
        lines = []
        async with service.store.transaction() as session:
            chosen = await schedule.broadcasts(session)
            if broadcast_id is not None:
                chosen = [b for b in chosen if b.id == broadcast_id]
                if not chosen:
                    fail(cli_text("cli.no_broadcast", number=broadcast_id))
            for broadcast in chosen:
                progress = await schedule.progress(session, broadcast.id)
                lines.append(_broadcast_line(service.services, broadcast, progress))
        return lines or [cli_text("cli.no_broadcasts")]

    for line in with_service(work):
        typer.echo(line)


@broadcast_app.command("cancel", help=cli_text("cli.help.broadcast_cancel"))
def broadcast_cancel(
    broadcast_id: Annotated[int, typer.Argument(help=cli_text("cli.help.broadcast_number"))],
) -> None:
    from storage import schedule
    from storage.changes import announce

    async def work(service: Any) -> str:
        async with service.store.transaction() as session:
            broadcast = await schedule.get_broadcast(session, broadcast_id)
            if broadcast is None:
                fail(cli_text("cli.no_broadcast", number=broadcast_id))
            if broadcast.status in (schedule.DONE, schedule.CANCELLED):
                return cli_text(
                    "cli.broadcast_already",
                    number=broadcast_id,
                    state=cli_text(f"cli.broadcast_state.{broadcast.status}"),
                )
            cancelled = await schedule.cancel_broadcast(session, broadcast)
            await announce(session)
        return cli_text("cli.broadcast_cancelled", number=broadcast_id, count=cancelled)

    typer.echo(with_service(work))


def _job_title(services: Any, job: Any, texts: dict[str, str]) -> str:
    """What a planned job is about, by the title a coordinator knows it by."""
    from handlers.broadcasts import plan

    if job.kind == plan.BROADCAST:
        return cli_text("cli.schedule_broadcast", number=job.key, text=texts.get(job.key, ""))
    return plan.subject(
        job,
        surveys=services.surveys,
        contest=services.contest,
        language=services.translator.default_language,
    )


@schedule_app.command("list", help=cli_text("cli.help.schedule_list"))
def schedule_list() -> None:
    from handlers.broadcasts.plan import current_plan
    from storage import schedule

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
            texts = {
                str(b.id): text_start(b.text or "") for b in await schedule.broadcasts(session)
            }
        return [
            cli_text(
                "cli.schedule_line",
                when=local_time(job.run_at, services.timezone),
                what=cli_text(f"cli.schedule_kind.{job.kind}"),
                title=_job_title(services, job, texts),
            )
            for job in planned
        ]

    lines = with_service(work)
    typer.echo("\n".join(lines) if lines else cli_text("cli.schedule_empty"))
