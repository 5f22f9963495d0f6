"""Builds the service from Settings and runs its parts together in one loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from typing import Any, TextIO

from telegram import Update
from telegram.error import NetworkError
from telegram.ext import Application

from bot.config import Settings
from bot.console import CHANNEL as CONSOLE
from bot.console import ConsoleTransport, OthersPreview, chat_loop
from bot.delivery import Claimed, OutboxSender
from bot.intake import IntakeWorker, OnStored, Poller, WebhookServer
from bot.mail import imap_configured, smtp_configured
from bot.mail.imap import MailboxWatcher
from bot.mail.smtp import SmtpTransport
from bot.startup import retry_with_backoff, settle_memory
from bot.telegram import CHANNEL as TELEGRAM
from bot.telegram import (
    TelegramTransport,
    build_application,
    set_command_menus,
)
from handlers.broadcasts.rules import load_rules
from handlers.contest.files import CONTEST_FILE, find_contest
from handlers.core.centre import load_centre
from handlers.core.demo import demo_edition
from handlers.core.entry import process_inbound
from handlers.core.events import Inbound, Reply
from handlers.core.i18n import Translator
from handlers.core.services import Channels, Services
from handlers.mailbox.cards import report_delivery_failure
from handlers.mailbox.content import load_mail_content
from handlers.surveys.files import load_surveys
from handlers.surveys.parts import seal_anonymous_surveys
from scheduler.backup_job import schedule_daily_backup
from scheduler.retention_job import schedule_retention
from scheduler.runtime import JobRuntime
from scheduler.service import JobScheduler
from storage.changes import ChangeWatcher
from storage.db import Store
from storage.intake import UpdateRef
from storage.migrate import upgrade_async
from storage.types import utcnow

log = logging.getLogger(__name__)

# Telegram posts updates to WEBHOOK_URL; the local server answers on this path.
WEBHOOK_PATH = "telegram"


class Service:
    """The whole bot: store, texts, content, and the channels that feed them."""

    def __init__(self, settings: Settings, *, demo: bool = False) -> None:
        """`demo`: serve the demo edition (handlers/core/demo.py) next to the real one;
        only the terminal chat asks for it, never Telegram."""
        self.settings = settings
        translator = Translator(settings.content_dir / "locales", settings.default_language)
        centre = load_centre(settings.content_dir)
        catalogue = load_surveys(settings.content_dir / "surveys", settings.timezone_info)
        # The coordinator reads these in the configured language, like the CLI's checks.
        text = partial(translator.text, settings.default_language)
        for path, problems in catalogue.problems.items():
            # An invalid survey is refused, the valid ones keep being served.
            log.error(
                "%s\n%s",
                text("cli.survey_not_loaded", path=path),
                "\n".join(p.format(path, text) for p in problems),
            )
        contest, contest_problems = find_contest(settings.content_dir, settings.timezone_info)
        if contest_problems:
            # Like an invalid survey: logged, and the bot runs without the contest.
            path = settings.content_dir / CONTEST_FILE
            log.error(
                "%s\n%s",
                text("cli.contest_not_loaded", path=path),
                "\n".join(p.format(path, text) for p in contest_problems),
            )
        surveys = catalogue.surveys
        self.demo_closes: datetime | None = None
        if demo:
            edition = demo_edition(
                surveys,
                contest,
                now=utcnow(),
                timezone=settings.timezone_info,
                translator=translator,
            )
            surveys, contest, self.demo_closes = edition.surveys, edition.contest, edition.closes
        self.store = Store(settings.database_url)
        self.sender: OutboxSender | None = None
        self.smtp: SmtpTransport | None = None
        self.services = Services(
            translator=translator,
            centre=centre,
            timezone=settings.timezone_info,
            # `run_console` switches to the terminal.
            chat_channel=TELEGRAM,
            coordinator_ids=frozenset(settings.coordinator_ids),
            surveys=surveys,
            contest=contest,
            data_dir=settings.data_dir,
            on_outbox_written=self._wake_sender,
            on_schedule_changed=self._schedule_changed,
            schedule_rules=load_rules(settings.content_dir),
            channels=Channels(
                telegram=settings.telegram_enabled,
                email_out=smtp_configured(settings),
                mailbox=imap_configured(settings),
            ),
        )
        self.scheduler: JobScheduler | None = None

    def _wake_sender(self) -> None:
        if self.sender is not None:
            self.sender.wake()

    def _schedule_changed(self) -> None:
        if self.scheduler is not None:
            self.scheduler.changed()

    def start_scheduler(self) -> asyncio.Task[None]:
        """Our own APScheduler in this loop: jobs run whether or not Telegram is used."""
        runtime = JobRuntime(self.store, self.services, wake_sender=self._wake_sender)
        self.scheduler = JobScheduler(runtime, self.services.schedule_rules)
        self.scheduler.start()
        schedule_daily_backup(self.scheduler.scheduler, self.settings)
        schedule_retention(self.scheduler.scheduler, runtime)
        return asyncio.create_task(self.scheduler.run(), name="scheduler")

    def start_change_watcher(self) -> asyncio.Task[None]:
        """Hear the CLI's writes (a broadcast queued or cancelled) within about a second."""
        watcher = ChangeWatcher(self.store, self._changed_elsewhere)
        return asyncio.create_task(watcher.run(), name="changes")

    def _changed_elsewhere(self) -> None:
        self._schedule_changed()
        self._wake_sender()

    async def stop_scheduler(self, task: asyncio.Task[None]) -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        if self.scheduler is not None:
            self.scheduler.shutdown()

    async def handle(self, event: Inbound) -> list[Reply]:
        return await process_inbound(self.store, self.services, event)

    def email_transports(self) -> dict[str, SmtpTransport]:
        """The SMTP transport for outbox channel "email", when SMTP_* is configured."""
        if not smtp_configured(self.settings):
            return {}
        self.smtp = SmtpTransport(self.settings, on_partial_refusal=self._email_partly_refused)
        return {"email": self.smtp}

    async def _email_refused(self, message: Claimed, error: str) -> None:
        if message.channel == "email":
            await report_delivery_failure(
                self.store,
                self.services,
                recipient=message.recipient,
                payload=message.payload,
                error=error,
                key=str(message.id),
            )

    async def _email_partly_refused(
        self, recipient: str, payload: dict[str, Any], refused: dict[str, str]
    ) -> None:
        await report_delivery_failure(
            self.store,
            self.services,
            recipient=", ".join(refused),
            payload=payload,
            error="; ".join(refused.values()),
            key=f"{payload.get('message_id')}:partly",
        )

    def start_mailbox(self) -> asyncio.Task[None] | None:
        """The IMAP watcher, next to the outbox sender, when IMAP_* is configured."""
        if not imap_configured(self.settings):
            return None
        content = load_mail_content(self.settings.content_dir)
        watcher = MailboxWatcher(self.settings, self.store, self.services, content=content)
        return asyncio.create_task(watcher.run(), name="mailbox")

    async def stop_mailbox(self, task: asyncio.Task[None] | None) -> None:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.smtp is not None:
            await self.smtp.close()

    async def prepare(self) -> None:
        await upgrade_async(self.settings.database_url)
        await seal_anonymous_surveys(self.store, self.services.surveys.values())
        from panel import serve as panel

        # `/panel` hands out sign-in links whenever the panel is configured.
        await panel.configure(self.store, self.services, self.settings)

    async def close(self) -> None:
        await self.store.close()

    async def run_telegram(self, stop: asyncio.Event) -> None:
        """Run the Telegram bot (polling or webhook) and the outbox sender until `stop`."""
        settings = self.settings
        application = build_application(settings)
        if not await self._reach_telegram(application, stop):
            return
        async with application:
            self.sender = OutboxSender(
                self.store,
                {"telegram": TelegramTransport(application.bot), **self.email_transports()},
                rate=settings.telegram_messages_per_second,
                on_permanent_failure=self._email_refused,
            )
            # Replies go from the handler's commit straight to this sender (claimed).
            self.services.reply_sender = self.sender
            sender_task = asyncio.create_task(self.sender.run(), name="outbox-sender")
            mailbox_task = self.start_mailbox()
            scheduler_task = self.start_scheduler()
            changes_task = self.start_change_watcher()
            await set_command_menus(
                application.bot, self.services.translator, self.services.coordinator_ids
            )
            worker = IntakeWorker(
                self.store, application.bot, self._process_update, self.services.coordinator_ids
            )
            worker_task = asyncio.create_task(worker.run(), name="intake-worker")
            panel_server = await self._start_panel()
            webhook: WebhookServer | None = None
            poller_task: asyncio.Task[None] | None = None
            try:
                if settings.telegram_mode == "webhook":
                    webhook = await self._start_webhook(application, worker.accept)
                else:
                    poller = Poller(self.store, application.bot, worker)
                    poller_task = asyncio.create_task(poller.run(), name="poller")
                settle_memory()
                log.info(
                    "Telegram bot @%s is running (%s)",
                    application.bot.username,
                    settings.telegram_mode,
                )
                await self._until_stopped(stop, [t for t in (poller_task, worker_task) if t])
            finally:
                if webhook is not None:
                    await webhook.stop()
                if panel_server is not None:
                    await panel_server.stop()
                await self.stop_scheduler(scheduler_task)
                await self.stop_mailbox(mailbox_task)
                for task in (poller_task, worker_task, changes_task, sender_task):
                    if task is None:
                        continue
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

    async def _start_panel(self) -> Any:
        """The web panel in this process, when PANEL_PORT is set."""
        from panel import serve as panel

        return await panel.start(self.store, self.services, self.settings)

    @staticmethod
    async def _until_stopped(stop: asyncio.Event, intake_tasks: list[asyncio.Task[None]]) -> None:
        """Wait for `stop`; an intake task that ends by itself (the store failing) ends
        the run with its error rather than leaving a bot that hears nothing."""
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait([stopping, *intake_tasks], return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        for task in intake_tasks:
            if task.done():
                task.result()

    async def _process_update(self, event: Inbound, update: UpdateRef, last_try: bool) -> None:
        await process_inbound(self.store, self.services, event, update=update, last_try=last_try)

    async def _reach_telegram(self, application: Application, stop: asyncio.Event) -> bool:
        """Initialise (getMe) until the Bot API answers: a network down at start is
        waited out with a log line per attempt. False when stopped meanwhile."""
        attempt = asyncio.create_task(
            retry_with_backoff(
                application.initialize,
                what="reaching the Telegram Bot API",
                retry_on=(NetworkError,),
            )
        )
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({attempt, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if attempt.done():
            attempt.result()  # a refused token is not retried: it ends the start
            return True
        attempt.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await attempt
        # The bot never initialised, so its shutdown would skip the HTTP session.
        await application.bot.request.shutdown()
        return False

    async def _start_webhook(self, application: Application, on_stored: OnStored) -> WebhookServer:
        """Our server first (Telegram posts as soon as the webhook is set), then setWebhook."""
        settings = self.settings
        assert settings.webhook_url and settings.webhook_secret
        secret = settings.webhook_secret.get_secret_value()
        server = WebhookServer(self.store, application.bot, secret=secret, on_stored=on_stored)
        server.listen(listen=settings.webhook_listen, port=settings.webhook_port, path=WEBHOOK_PATH)
        await retry_with_backoff(
            lambda: application.bot.set_webhook(
                url=settings.webhook_url, secret_token=secret, allowed_updates=Update.ALL_TYPES
            ),
            what="setting the webhook",
            retry_on=(NetworkError,),
        )
        return server

    async def run_console(
        self,
        *,
        user_id: int,
        coordinator: bool,
        out: TextIO = sys.stdout,
        read_line: Callable[[], Awaitable[str | None]] | None = None,
    ) -> None:
        """One person's terminal chat. Several sessions may share one store: each
        shows its own person's messages, and coordinators' notices reach theirs."""
        self.services.chat_channel = CONSOLE
        language = self.settings.default_language
        transport = ConsoleTransport(
            out,
            self.settings.data_dir / "downloads",
            lambda key, **values: self.services.translator.text(language, key, **values),
        )
        self.sender = OutboxSender(self.store, {CONSOLE: transport}, recipient=str(user_id))
        mail = OutboxSender(
            self.store, self.email_transports(), on_permanent_failure=self._email_refused
        )
        await self.sender.recover()
        mailbox_task = self.start_mailbox()
        coordinators = set(self.services.coordinator_ids)
        if coordinator:
            coordinators.add(user_id)
        self.services.coordinator_ids = frozenset(coordinators)
        # A coordinator sees, marked, what their actions queue for other people.
        others = (
            OthersPreview(self.store, transport, str(user_id))
            if user_id in self.services.coordinator_ids
            else None
        )
        if others is not None:
            await others.start()

        async def deliver() -> None:
            await self.sender.drain()  # type: ignore[union-attr]
            if mail.transports:
                await mail.drain()
            if others is not None:
                await others.show()

        try:
            await chat_loop(
                user_id=user_id,
                coordinator=coordinator,
                transport=transport,
                handle=self.handle,
                deliver=deliver,
                read_line=read_line,
            )
        finally:
            await self.stop_mailbox(mailbox_task)


def install_stop_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
