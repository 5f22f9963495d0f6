"""The bots under test, each run in a process of its own by ``benchmarks.updates``.

``python -m benchmarks.bots echo --base-url URL`` runs a bare python-telegram-bot echo bot;
``python -m benchmarks.bots lokalnie --base-url URL --database-url URL --data-dir DIR
[--content-dir DIR]`` runs the real Lokalnie ``Service`` (PTB Application in polling mode plus
the outbox sender and the scheduler); ``--content-dir`` (default: the repository's ``content/``)
lets the diagnosis benchmark serve a copy in which the closed 2021 survey is open.
``python -m benchmarks.bots fake [--port N]`` runs the fake Bot API
(``tests.fakes.telegram_api``) under this module's name, so that a broad ``pkill -f
telegram_api`` by someone cleaning up after tests on a shared machine does not end a benchmark.

Both poll the fake Bot API the same way (``timeout=10, poll_interval=0``, PTB's default
``limit`` of 100 updates per getUpdates) and handle updates one at a time, in order
(``concurrent_updates(False)``, as Lokalnie does). SIGTERM stops them cleanly; SIGUSR1 resets
the optional profile and SQL statistics (sent by the driver after the warm-up).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import logging
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot.telegram_request import AiohttpRequest

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123:BENCH"


def _stop_event(on_reset: Callable[[], None]) -> asyncio.Event:
    """An event set by SIGTERM/SIGINT; SIGUSR1 calls ``on_reset``."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGUSR1, on_reset)
    return stop


def _file_base_url(base_url: str) -> str:
    return base_url.rstrip("/").removesuffix("/bot") + "/file/bot"


async def serve_echo(base_url: str, on_reset: Callable[[], None], request: str = "httpx") -> None:
    """A bare PTB bot: one send_message per message or button press (plus answerCallbackQuery).

    `request`: PTB's default HTTP client (httpx), or the aiohttp one Lokalnie uses for
    its calls other than getUpdates (to compare like with like).
    """
    builder = (
        Application.builder()
        .token(TOKEN)
        .base_url(base_url)
        .base_file_url(_file_base_url(base_url))
        .concurrent_updates(False)
    )
    if request == "aiohttp":
        builder = builder.request(AiohttpRequest())
    application = builder.build()

    async def on_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat, message = update.effective_chat, update.effective_message
        if chat is not None and message is not None:
            await context.bot.send_message(chat.id, message.text or "?")

    async def on_callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query, chat = update.callback_query, update.effective_chat
        if query is None or chat is None:
            return
        # Lokalnie answers every button press at once too (it stops the spinner).
        await query.answer()
        await context.bot.send_message(chat.id, query.data or "?")

    application.add_handler(MessageHandler(filters.ALL, on_message))
    application.add_handler(CallbackQueryHandler(on_callback))
    stop = _stop_event(on_reset)
    async with application:
        assert application.updater is not None
        await application.start()
        await application.updater.start_polling(timeout=10, poll_interval=0.0)
        await stop.wait()
        await application.updater.stop()
        await application.stop()


class SqlStats:
    """Counts statements, commits and time spent in the DB driver's cursor calls."""

    def __init__(self) -> None:
        self.statements: Counter[str] = Counter()
        self.seconds: Counter[str] = Counter()
        self.commits = 0
        self._started: dict[int, float] = {}

    def reset(self) -> None:
        """Forget everything counted so far (called after the warm-up)."""
        self.statements.clear()
        self.seconds.clear()
        self.commits = 0

    def attach(self, sync_engine: Any) -> None:
        """Listen to a SQLAlchemy engine's cursor and commit events."""
        from sqlalchemy import event

        event.listen(sync_engine, "before_cursor_execute", self._before)
        event.listen(sync_engine, "after_cursor_execute", self._after)
        event.listen(sync_engine, "commit", self._commit)

    @staticmethod
    def _key(statement: str) -> str:
        return " ".join(statement.split())[:90]

    def _before(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self._started[id(cursor)] = time.perf_counter()

    def _after(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        started = self._started.pop(id(cursor), None)
        key = self._key(statement)
        self.statements[key] += 1
        if started is not None:
            self.seconds[key] += time.perf_counter() - started

    def _commit(self, conn: Any) -> None:
        self.commits += 1

    def dump(self, path: Path) -> None:
        """Write the counts as JSON for the driver."""
        data = {
            "commits": self.commits,
            "statements": [
                {"sql": sql, "count": count, "seconds": self.seconds[sql]}
                for sql, count in self.statements.most_common()
            ],
        }
        path.write_text(json.dumps(data, indent=1))


async def serve_lokalnie(
    base_url: str,
    database_url: str,
    data_dir: Path,
    on_reset: Callable[[], None],
    sql_stats: SqlStats | None = None,
    content_dir: Path = ROOT / "content",
) -> None:
    """The real service, configured like production except for the Bot API address."""
    from bot.app import Service
    from bot.config import load_settings

    settings = load_settings(
        _env_file=None,
        database_url=database_url,
        telegram_bot_token=TOKEN,
        telegram_api_base_url=base_url,
        telegram_file_base_url=_file_base_url(base_url),
        # No pacing: the fake has no flood limits (production paces at 25 messages/s).
        telegram_messages_per_second=0,
        content_dir=content_dir,
        data_dir=data_dir,
        coordinator_ids="",
    )
    service = Service(settings)
    try:
        await service.prepare()
        if sql_stats is not None:
            sql_stats.attach(service.store.engine.sync_engine)
        stop = _stop_event(on_reset)
        await service.run_telegram(stop)
    finally:
        await service.close()


class Profile:
    """cProfile (``*.prof``) or, if installed, pyinstrument (``*.txt``, ``*.html``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.pyinstrument: Any = None
        self.cprofile: cProfile.Profile | None = None
        if path.suffix == ".prof":
            self.cprofile = cProfile.Profile()
        else:
            try:
                from pyinstrument import Profiler
            except ImportError:
                raise SystemExit(
                    "pyinstrument is not installed (pip install pyinstrument)"
                ) from None
            # Plain sampling: on-CPU stacks, the event loop's idle wait shows as select().
            self.pyinstrument = Profiler(interval=0.0005, async_mode="disabled")

    def start(self) -> None:
        """Start sampling or tracing."""
        if self.cprofile is not None:
            self.cprofile.enable()
        else:
            self.pyinstrument.start()

    def reset(self) -> None:
        """Forget what was recorded so far (start-up and warm-up)."""
        if self.cprofile is not None:
            self.cprofile.disable()
            self.cprofile.clear()
            self.cprofile.enable()
        else:
            self.pyinstrument.stop()
            self.pyinstrument.reset()
            self.pyinstrument.start()

    def save(self) -> None:
        """Stop and write the profile."""
        if self.cprofile is not None:
            self.cprofile.disable()
            self.cprofile.dump_stats(self.path)
            return
        self.pyinstrument.stop()
        if self.path.suffix == ".html":
            self.pyinstrument.write_html(self.path)
        else:
            self.path.write_text(self.pyinstrument.output_text(show_all=False))


def main(argv: Iterable[str] | None = None) -> None:
    """Run one bot until SIGTERM (see the module docstring)."""
    arguments = list(argv) if argv is not None else sys.argv[1:]
    if arguments[:1] == ["fake"]:
        from tests.fakes.telegram_api import main as run_fake

        run_fake(arguments[1:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bot", choices=("echo", "lokalnie"))
    parser.add_argument("--base-url", required=True, help="the fake's base_url (…/bot)")
    parser.add_argument("--database-url")
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument(
        "--content-dir", type=Path, default=ROOT / "content", help="default: content/"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="write a profile here: *.prof cProfile, *.txt/*.html pyinstrument",
    )
    parser.add_argument("--sql-stats", type=Path, help="write SQL statement counts here")
    parser.add_argument("--request", choices=("httpx", "aiohttp"), default="httpx")
    args = parser.parse_args(arguments)
    # As `lokalnie run` logs: INFO, but not httpx's line per request.
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)

    profile = Profile(args.profile) if args.profile else None
    sql_stats = SqlStats() if args.sql_stats else None

    def reset() -> None:
        if profile is not None:
            profile.reset()
        if sql_stats is not None:
            sql_stats.reset()

    if args.bot == "echo":
        coroutine = serve_echo(args.base_url, reset, args.request)
    else:
        if not args.database_url or args.data_dir is None:
            parser.error("lokalnie needs --database-url and --data-dir")
        coroutine = serve_lokalnie(
            args.base_url,
            args.database_url,
            args.data_dir,
            reset,
            sql_stats,
            args.content_dir.resolve(),
        )
    if profile is not None:
        profile.start()
    try:
        asyncio.run(coroutine)
    finally:
        if profile is not None:
            profile.save()
        if sql_stats is not None:
            with contextlib.suppress(OSError):
                sql_stats.dump(args.sql_stats)


if __name__ == "__main__":
    main()
