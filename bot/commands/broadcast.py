"""`lokalnie broadcast send|status|cancel` and `lokalnie schedule list`."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from bot.cli_support import fail, with_service

broadcast_app = typer.Typer(help="Broadcasts to residents.", no_args_is_help=True)
schedule_app = typer.Typer(help="What the bot will send and when.", no_args_is_help=True)


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
    from storage.changes import announce

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
            await announce(session)
        # Queued, not started: only the running bot delivers, so say when it will.
        if at is None:
            start = "delivery starts at once if the bot is running, else when it starts"
        else:
            local = moment.astimezone(services.timezone)
            start = (
                f"delivery starts at {local:%d.%m.%Y %H:%M} ({services.timezone.key}) "
                "if the bot is running then, else when it starts"
            )
        return f"broadcast {broadcast.id} queued: {count} recipient(s); {start}"

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

    for line in with_service(work):
        typer.echo(line)


@broadcast_app.command("cancel")
def broadcast_cancel(broadcast_id: int) -> None:
    """Stop a broadcast: messages not sent yet will not be sent."""
    from storage import schedule
    from storage.changes import announce

    async def work(service: Any) -> str:
        async with service.store.transaction() as session:
            broadcast = await schedule.get_broadcast(session, broadcast_id)
            if broadcast is None:
                fail(f"no broadcast {broadcast_id}")
            if broadcast.status in (schedule.DONE, schedule.CANCELLED):
                return f"broadcast {broadcast_id} is already {broadcast.status}"
            cancelled = await schedule.cancel_broadcast(session, broadcast)
            await announce(session)
        return f"broadcast {broadcast_id} cancelled; {cancelled} message(s) will not be sent"

    typer.echo(with_service(work))


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

    lines = with_service(work)
    typer.echo("\n".join(lines) if lines else "nothing scheduled")
