"""`lokalnie privacy report`: what the store keeps, by category and age."""

from __future__ import annotations

from typing import Any

import typer

from bot.cli_support import with_service

privacy_app = typer.Typer(
    help="Personal data: what is stored, and for how long.", no_args_is_help=True
)


@privacy_app.command("report")
def privacy_report() -> None:
    """Rows per category in age buckets, and how many are past their retention period."""
    from storage import retention

    async def work(service: Any) -> str:
        services = service.services
        months = services.centre.retention.months
        async with service.store.transaction() as session:
            lines = await retention.report(
                session, now=services.clock(), period=retention.months(months)
            )
        head = (
            f"retention period: {months} months (content/centre.yaml); "
            "past = older than the category's period, removed by the daily retention job"
        )
        return "\n".join([head, *retention.describe(lines)])

    typer.echo(with_service(work))
