"""`lokalnie privacy report`: what the store keeps, by category and age."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import typer

from bot.cli_support import cli_text, with_service

privacy_app = typer.Typer(help=cli_text("cli.help.privacy"), no_args_is_help=True)

# The report's categories (`storage.retention.CATEGORIES`) by the names people read.
CATEGORY_KEYS = {
    "residents": "cli.privacy_category.residents",
    "conversations": "cli.privacy_category.conversations",
    "survey responses (finished)": "cli.privacy_category.responses_finished",
    "survey responses (unfinished)": "cli.privacy_category.responses_unfinished",
    "survey contacts": "cli.privacy_category.survey_contacts",
    "questions (/ask)": "cli.privacy_category.questions",
    "e-mails": "cli.privacy_category.emails",
    "e-mail acknowledgements": "cli.privacy_category.acknowledgements",
    "events": "cli.privacy_category.events",
    "outbox (delivered, failed, cancelled)": "cli.privacy_category.outbox_finished",
    "outbox (waiting)": "cli.privacy_category.outbox_waiting",
    "inbound receipts": "cli.privacy_category.inbound_receipts",
    "inbound updates (handled)": "cli.privacy_category.inbound_updates",
    "proposals (submitted)": "cli.privacy_category.proposals_submitted",
    "proposals (drafts)": "cli.privacy_category.proposals_drafts",
}
# What happens to a category's rows past their period.
ACTION_KEYS = {
    "erase": "cli.privacy_action.erase",
    "delete": "cli.privacy_action.delete",
    "empty": "cli.privacy_action.empty",
}


def category_name(name: str) -> str:
    key = CATEGORY_KEYS.get(name)
    return cli_text(key) if key else name


def describe(lines: Sequence[Any]) -> list[str]:
    """The report as aligned lines: counts per age bucket, past the period, what then."""
    names = [category_name(line.name) for line in lines]
    width = max([len(cli_text("cli.privacy.col_category")), *map(len, names)])
    ages = cli_text("cli.privacy.ages").split("|")
    columns = [cli_text("cli.privacy.col_total"), *ages, cli_text("cli.privacy.col_past")]
    spans = [max(len(c), 7) for c in columns]
    head = [cli_text("cli.privacy.col_category").ljust(width)]
    head += [c.rjust(s) for c, s in zip(columns, spans, strict=True)]
    out = [" ".join(head) + "  " + cli_text("cli.privacy.col_then")]
    for name, line in zip(names, lines, strict=True):
        counts = [line.total, *line.buckets, line.past]
        if line.action == "keep":
            then = cli_text("cli.privacy_action.keep")
        else:
            action = cli_text(ACTION_KEYS[line.action]) if line.action in ACTION_KEYS else ""
            then = cli_text("cli.privacy.then", count=line.kept.days, action=action)
        cells = [name.ljust(width)] + [str(n).rjust(s) for n, s in zip(counts, spans, strict=True)]
        out.append(" ".join(cells) + "  " + then)
    return out


@privacy_app.command("report", help=cli_text("cli.help.privacy_report"))
def privacy_report() -> None:
    from storage import retention

    async def work(service: Any) -> str:
        services = service.services
        months = services.centre.retention.months
        async with service.store.transaction() as session:
            lines = await retention.report(
                session, now=services.clock(), period=retention.months(months)
            )
        return "\n".join([cli_text("cli.privacy.head", count=months), *describe(lines)])

    typer.echo(with_service(work))
