"""`lokalnie mail sync|list|show`: the mailbox from the terminal.

`sync` imports the configured IMAP folder once (everything not stored yet) with a
progress bar; like the first import of the watcher it tells nobody. `list` and
`show` read the store, as a table or JSON.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from bot.cli_support import cli_text, fail, local_time, with_service
from bot.commands.output import format_help

mail_app = typer.Typer(help=cli_text("cli.help.mail"), no_args_is_help=True)

FORMATS = ("table", "json")
SUBJECT_WIDTH = 50
SENDER_WIDTH = 32


def _texts(service: Any) -> Any:
    language = service.settings.default_language
    translator = service.services.translator

    def t(key: str, **values: object) -> str:
        return str(translator.text(language, key, **values))

    return t


@mail_app.command("sync", help=cli_text("cli.help.mail_sync"))
def sync() -> None:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from bot.mail import imap_configured
    from bot.mail.imap import MailboxWatcher
    from handlers.mailbox.content import load_mail_content

    async def work(service: Any) -> str:
        t = _texts(service)
        if not imap_configured(service.settings):
            fail(t("mail.cli_not_configured"))
        watcher = MailboxWatcher(
            service.settings,
            service.store,
            service.services,
            content=load_mail_content(service.settings.content_dir),
        )
        columns = (
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=Console(stderr=True)) as progress:
            task = progress.add_task(t("mail.cli_progress"), total=None)

            def update(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            report = await watcher.sync(progress=update)
        return t(
            "mail.cli_synced",
            stored=report.stored,
            duplicates=report.duplicates,
            problems=report.problems,
        )

    typer.echo(with_service(work))


def _check_format(format: str) -> None:
    if format not in FORMATS:
        fail(cli_text("cli.bad_format", formats=", ".join(FORMATS), given=format))


def _local(service: Any, moment: Any) -> str:
    if moment is None:
        return ""
    return local_time(moment, service.services.timezone)


def _cut(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


# An outgoing e-mail is "sent" only once the outbox delivered it.
OUT_STATES = {"sent": "mail.state_sent", "failed": "mail.state_failed"}


async def _delivery(session: Any, messages: list[Any]) -> dict[int, str]:
    """The outbox status of each outgoing e-mail, by message id."""
    from handlers.mailbox.outgoing import delivery_states

    return await delivery_states(session, [m.id for m in messages if m.direction == "out"])


def _state(t: Any, message: Any, thread: Any, delivery: dict[int, str]) -> str:
    if message.direction == "out":
        return str(t(OUT_STATES.get(delivery.get(message.id, ""), "mail.state_queued")))
    return str(t("mail.state_handled" if thread.status == "handled" else "mail.state_open"))


@mail_app.command("list", help=cli_text("cli.help.mail_list"))
def list_(
    limit: Annotated[int, typer.Option(help=cli_text("cli.help.mail_limit"))] = 50,
    unhandled: Annotated[bool, typer.Option(help=cli_text("cli.help.mail_unhandled"))] = False,
    format: Annotated[str, typer.Option("--format", help=format_help(FORMATS))] = "table",
) -> None:
    from storage import mail as store

    _check_format(format)

    async def work(service: Any) -> str:
        t = _texts(service)
        async with service.store.transaction() as session:
            rows = await store.list_messages(session, limit=limit, unhandled=unhandled)
            delivery = await _delivery(session, [m for m, _thread in rows])
        if format == "json":
            return json.dumps(
                [
                    {
                        "id": m.id,
                        "thread": m.thread_id,
                        "direction": m.direction,
                        "date": (m.date or m.received_at).isoformat(),
                        "from": m.from_address,
                        "from_name": m.from_name,
                        "subject": m.subject,
                        "state": thread.status,
                        "problem": m.parse_error,
                    }
                    for m, thread in rows
                ],
                ensure_ascii=False,
                indent=2,
            )
        if not rows:
            return str(t("mail.cli_empty"))
        header = (
            f"{t('mail.col_id'):>6}  {t('mail.col_date'):16}  "
            f"{t('mail.col_from'):{SENDER_WIDTH}}  {t('mail.col_subject'):{SUBJECT_WIDTH}}  "
            f"{t('mail.col_state')}"
        )
        lines = [header]
        for message, thread in rows:
            sender = message.from_address if message.direction == "in" else _to(message)
            lines.append(
                f"{message.id:>6}  {_local(service, message.date or message.received_at):16}  "
                f"{_cut(sender, SENDER_WIDTH):{SENDER_WIDTH}}  "
                f"{_cut(message.subject, SUBJECT_WIDTH):{SUBJECT_WIDTH}}  "
                f"{_state(t, message, thread, delivery)}"
            )
        return "\n".join(lines)

    typer.echo(with_service(work))


def _to(message: Any) -> str:
    return ", ".join(address for _name, address in message.to or [])


@mail_app.command("show", help=cli_text("cli.help.mail_show"))
def show(
    message_id: Annotated[int, typer.Argument(help=cli_text("cli.help.mail_number"))],
    format: Annotated[str, typer.Option("--format", help=format_help(FORMATS))] = "table",
) -> None:
    from storage import mail as store

    _check_format(format)

    async def work(service: Any) -> str:
        t = _texts(service)
        async with service.store.transaction() as session:
            message = await store.get_message(session, message_id)
            if message is None:
                fail(t("mail.cli_no_message", id=message_id))
            thread = await store.get_thread(session, message.thread_id)
            files = (await store.attachments_of(session, [message.id])).get(message.id, [])
            delivery = await _delivery(session, [message])
        if format == "json":
            return json.dumps(
                {
                    "id": message.id,
                    "message_id": message.message_id,
                    "thread": message.thread_id,
                    "state": thread.status if thread else None,
                    "direction": message.direction,
                    "date": (message.date or message.received_at).isoformat(),
                    "from": [message.from_name, message.from_address],
                    "to": message.to,
                    "cc": message.cc,
                    "subject": message.subject,
                    "text": message.text,
                    "headers": message.headers,
                    "auth": message.auth,
                    "attachments": [
                        {"name": a.filename, "type": a.content_type, "size": a.size, "path": a.path}
                        for a in files
                    ],
                    "problem": message.parse_error,
                },
                ensure_ascii=False,
                indent=2,
            )
        sender = (
            f"{message.from_name} <{message.from_address}>"
            if message.from_name
            else message.from_address
        )
        lines = [
            f"{t('mail.col_from')}: {sender}",
            f"{t('mail.field_to')}: {_to(message)}",
            f"{t('mail.col_date')}: {_local(service, message.date or message.received_at)}",
            f"{t('mail.col_subject')}: {message.subject}",
            f"{t('mail.field_thread')}: {message.thread_id} "
            f"({_state(t, message, thread, delivery)})",
        ]
        if files:
            names = ", ".join(f"{a.filename} ({a.size} B)" for a in files)
            lines.append(f"{t('mail.field_attachments')}: {names}")
        if message.parse_error:
            lines.append(f"{t('mail.field_problem')}: {message.parse_error}")
        return "\n".join(lines) + "\n\n" + message.text

    typer.echo(with_service(work))
