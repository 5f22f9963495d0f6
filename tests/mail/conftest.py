"""Fixtures for the mailbox: the bot's service wired to the session's Dovecot and aiosmtpd."""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import time
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.app import Service
from bot.config import Settings
from bot.mail.imap import MailboxWatcher
from handlers.core.replies import from_payload
from handlers.mailbox.content import load_mail_content
from storage.mail import MailMessage, checkpoint
from storage.models import OutboxMessage
from tests.conftest import CONTENT, make_settings
from tests.harness import ChatHarness
from tests.servers.dovecot import DovecotServer, ImapAccount
from tests.servers.smtp import SmtpServer

MAIL_FROM = "Ośrodek Kultury <bot@lokalnie.test>"


def mail_settings(
    url: str, tmp_path: Path, imap: ImapAccount | None, smtp: SmtpServer | None, **extra: Any
) -> Settings:
    values: dict[str, Any] = {"imap_idle_seconds": 60.0, "imap_poll_seconds": 0.2}
    if imap is not None:
        values.update(
            imap_host=imap.host,
            imap_port=imap.port,
            imap_user=imap.user,
            imap_password=imap.password,
            imap_security="none",
        )
    if smtp is not None:
        values.update(
            smtp_host=smtp.host, smtp_port=smtp.port, smtp_security="none", mail_from=MAIL_FROM
        )
    values.update(extra)
    return make_settings(url, tmp_path, **values)


@pytest.fixture
async def mail_service(
    sqlite_url: str, tmp_path: Path, imap: ImapAccount, smtp: SmtpServer
) -> AsyncIterator[Service]:
    service = Service(mail_settings(sqlite_url, tmp_path, imap, smtp))
    try:
        yield service
    finally:
        await service.close()


def watcher_for(service: Service, **options: Any) -> MailboxWatcher:
    options.setdefault("reconnect_min", 0.1)
    options.setdefault("reconnect_max", 0.5)
    options.setdefault("timeout", 10.0)
    return MailboxWatcher(
        service.settings,
        service.store,
        service.services,
        content=load_mail_content(CONTENT),
        **options,
    )


@contextlib.asynccontextmanager
async def running(watcher: MailboxWatcher) -> AsyncIterator[asyncio.Task[None]]:
    """The watcher's loop as a task, cancelled at the end (it never ends by itself)."""
    task = asyncio.create_task(watcher.run())
    try:
        await wait_until(lambda: watcher.connected.is_set() or task.done())
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def wait_until(condition: Any, timeout: float = 20.0) -> None:  # noqa: ASYNC109
    """Poll until `condition()` (sync or async) is true; a bound, not a timed assertion."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.05)


async def stored_count(service: Service) -> int:
    async with service.store.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(MailMessage)) or 0)


async def stored(service: Service) -> list[MailMessage]:
    async with service.store.transaction() as session:
        return list(await session.scalars(select(MailMessage).order_by(MailMessage.id)))


async def stored_checkpoint(service: Service) -> bool:
    async with service.store.transaction() as session:
        return await checkpoint(session, "INBOX") is not None


async def outbox_rows(service: Service, channel: str | None = None) -> list[OutboxMessage]:
    async with service.store.transaction() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if channel is not None:
            query = query.where(OutboxMessage.channel == channel)
        return list(await session.scalars(query))


class Recorder:
    """A transport that keeps what it was asked to deliver (any channel)."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self.delivered: list[tuple[str, dict[str, Any]]] = []

    async def deliver(self, recipient: str, payload: dict[str, Any]) -> None:
        self.delivered.append((recipient, payload))

    def texts(self, recipient: str) -> list[str]:
        return [p.get("text", "") for r, p in self.delivered if r == recipient]

    def buttons(self, recipient: str) -> dict[str, str]:
        """label -> callback data of every button sent to `recipient`."""
        found: dict[str, str] = {}
        for r, payload in self.delivered:
            if r == recipient:
                for row in from_payload(payload).buttons:
                    for button in row:
                        found[button.label] = button.data
        return found


def with_recorders(harness: ChatHarness, channels: Iterable[str]) -> dict[str, Recorder]:
    recorders = {channel: Recorder(channel) for channel in channels}
    harness.sender.transports.update(recorders)
    if "telegram" in recorders:  # a Telegram deployment: coordinators' notices go there
        harness.service.services.chat_channel = "telegram"
    return recorders


def fill_maildir(server: DovecotServer, user: str, raws: list[bytes]) -> None:
    """Drop messages straight into the user's Maildir (seconds for thousands; Dovecot
    picks them up on its next look at the folder, as after a local delivery)."""
    maildir = server.conf_path.parent / "home" / user / "Maildir"
    owner = pwd.getpwnam("nobody") if os.geteuid() == 0 else None
    for sub in ("", "cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
        if owner is not None:
            os.chown(maildir / sub, owner.pw_uid, owner.pw_gid)
    stamp = time.time_ns()
    for number, raw in enumerate(raws):
        temporary = maildir / "tmp" / f"{stamp}.M{number}.test"
        temporary.write_bytes(raw)
        if owner is not None:
            os.chown(temporary, owner.pw_uid, owner.pw_gid)
        temporary.rename(maildir / "new" / temporary.name)
