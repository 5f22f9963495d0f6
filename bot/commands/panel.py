"""`lokalnie panel` (the web panel alone) and `lokalnie panel link --coordinator ID`."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import typer

from bot.cli_support import cli_text, configure_logging, fail, guarded, with_service
from bot.config import load_settings

panel_app = typer.Typer(help=cli_text("cli.help.panel"), invoke_without_command=True)


@panel_app.callback()
def panel_serve(ctx: typer.Context) -> None:
    if ctx.invoked_subcommand is not None:
        return
    settings = guarded(load_settings)
    if settings.panel_port is None:
        fail(cli_text("cli.panel.no_port"))
    configure_logging(settings)
    from bot.app import Service, install_stop_signals
    from bot.startup import settle_memory
    from panel import serve

    async def main() -> None:
        service = Service(settings)
        try:
            await service.prepare()
            server = await serve.start(service.store, service.services, settings)
            assert server is not None
            settle_memory()
            typer.echo(cli_text("cli.panel.serving", url=settings.panel_base_url))
            stop = asyncio.Event()
            install_stop_signals(stop)
            try:
                await stop.wait()
            finally:
                await server.stop()
        finally:
            await service.close()

    guarded(lambda: asyncio.run(main()))


@panel_app.command("link", help=cli_text("cli.help.panel_link"))
def panel_link(
    coordinator: Annotated[int, typer.Option(help=cli_text("cli.help.panel_coordinator"))],
) -> None:
    settings = guarded(load_settings)
    if settings.panel_base_url is None:
        fail(cli_text("cli.panel.not_configured"))
    if coordinator not in settings.coordinator_ids:
        fail(cli_text("cli.panel.not_coordinator", id=coordinator))

    async def work(service: Any) -> str:
        make_link = service.services.panel_link
        assert make_link is not None
        return str(make_link(coordinator))

    typer.echo(with_service(work))
