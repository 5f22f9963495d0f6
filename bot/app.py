"""Builds the service from Settings and runs its parts together in one loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from typing import TextIO

from telegram.ext import Application

from bot.config import Settings
from bot.console import ConsoleTransport, chat_loop
from bot.delivery import OutboxSender
from bot.telegram import (
    TelegramTransport,
    UpdateRouter,
    build_application,
    register_handlers,
    set_command_menus,
)
from handlers.content import load_centre
from handlers.entry import process_inbound
from handlers.events import Inbound, Reply
from handlers.i18n import Translator
from handlers.services import Services
from handlers.survey_files import load_surveys
from storage.db import Store
from storage.migrate import upgrade_async

log = logging.getLogger(__name__)

# Telegram posts updates to WEBHOOK_URL; the local server answers on this path.
WEBHOOK_PATH = "telegram"


class Service:
    """The whole bot: store, texts, content, and the channels that feed them."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        translator = Translator(settings.content_dir / "locales", settings.default_language)
        centre = load_centre(settings.content_dir)
        catalogue = load_surveys(settings.content_dir / "surveys", settings.timezone_info)
        for path, problems in catalogue.problems.items():
            # An invalid survey is refused, the valid ones keep being served.
            log.error(
                "survey %s not loaded:\n%s",
                path,
                "\n".join(f"  {p.line}: {p.message}" for p in problems),
            )
        self.store = Store(settings.database_url)
        self.sender: OutboxSender | None = None
        self.services = Services(
            translator=translator,
            centre=centre,
            timezone=settings.timezone_info,
            coordinator_ids=frozenset(settings.coordinator_ids),
            surveys=catalogue.surveys,
            data_dir=settings.data_dir,
            on_outbox_written=self._wake_sender,
        )

    def _wake_sender(self) -> None:
        if self.sender is not None:
            self.sender.wake()

    async def handle(self, event: Inbound) -> list[Reply]:
        return await process_inbound(self.store, self.services, event)

    async def prepare(self) -> None:
        await upgrade_async(self.settings.database_url)

    async def close(self) -> None:
        await self.store.close()

    async def run_telegram(self, stop: asyncio.Event) -> None:
        """Run the Telegram bot (polling or webhook) and the outbox sender until `stop`."""
        settings = self.settings
        application = build_application(settings)
        router = UpdateRouter(self.handle, self.services.coordinator_ids)
        register_handlers(application, router)
        async with application:
            self.sender = OutboxSender(
                self.store,
                {"telegram": TelegramTransport(application.bot)},
                rate=settings.telegram_messages_per_second,
            )
            sender_task = asyncio.create_task(self.sender.run(), name="outbox-sender")
            await set_command_menus(
                application.bot, self.services.translator, self.services.coordinator_ids
            )
            try:
                await application.start()
                await self._start_updates(application)
                log.info(
                    "Telegram bot @%s is running (%s)",
                    application.bot.username,
                    settings.telegram_mode,
                )
                await stop.wait()
            finally:
                if application.updater is not None and application.updater.running:
                    await application.updater.stop()
                if application.running:
                    await application.stop()
                sender_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sender_task

    async def _start_updates(self, application: Application) -> None:
        settings = self.settings
        assert application.updater is not None
        if settings.telegram_mode == "webhook":
            assert settings.webhook_url and settings.webhook_secret
            await application.updater.start_webhook(
                listen=settings.webhook_listen,
                port=settings.webhook_port,
                url_path=WEBHOOK_PATH,
                webhook_url=settings.webhook_url,
                secret_token=settings.webhook_secret.get_secret_value(),
            )
        else:
            await application.updater.start_polling(timeout=10, poll_interval=0.0)

    async def run_console(
        self, *, user_id: int, coordinator: bool, out: TextIO = sys.stdout
    ) -> None:
        transport = ConsoleTransport(out, self.settings.data_dir / "downloads")
        self.sender = OutboxSender(self.store, {"console": transport})
        await self.sender.recover()
        coordinators = set(self.services.coordinator_ids)
        if coordinator:
            coordinators.add(user_id)
        self.services.coordinator_ids = frozenset(coordinators)
        await chat_loop(
            user_id=user_id,
            coordinator=coordinator,
            transport=transport,
            handle=self.handle,
            deliver=self.sender.drain,
        )


def install_stop_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
