"""No secret is ever written: the bot at DEBUG, through its failure paths, leaves none
of its token or passwords in the log or in the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import quote

import aiohttp
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot import redact
from bot.app import Service
from bot.cli_support import configure_logging
from storage import outbox
from storage.models import Base, OutboxMessage
from tests.conftest import make_settings
from tests.e2e.conftest import wait_until
from tests.fakes.telegram_api import FakeTelegramServer
from tests.servers.smtp import SmtpServer

TOKEN = "424242:SECRET-token-Zq9xW"
SMTP_PASSWORD = "smtp-SECRET-pw-7"
IMAP_PASSWORD = "imap-SECRET-pw-8"
WEBHOOK_SECRET = "hook-SECRET-9"
DB_PASSWORD = "db-SECRET-pw-10"
SECRETS = [TOKEN, SMTP_PASSWORD, IMAP_PASSWORD, WEBHOOK_SECRET, DB_PASSWORD]


@pytest.fixture(autouse=True)
def no_remembered_secrets() -> Iterator[None]:
    yield
    redact.forget_all()


def written(secret: str) -> list[str]:
    return [secret, quote(secret, safe=""), quote(secret)]


def test_filter_redacts_message_arguments_traceback_and_stack(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(
        f"postgresql://lokalnie:{quote(DB_PASSWORD)}@127.0.0.1/x",
        tmp_path,
        telegram_bot_token=TOKEN,
        smtp_password=SMTP_PASSWORD,
        imap_password=IMAP_PASSWORD,
        webhook_secret=WEBHOOK_SECRET,
        log_level="DEBUG",
    )
    caplog.set_level(logging.DEBUG)
    configure_logging(settings)
    library = logging.getLogger("some.library")
    library.debug("POST https://api.telegram.org/bot%s/getMe", TOKEN)
    library.info("url %s", f"https://x/bot{quote(TOKEN, safe='')}/sendMessage")
    library.warning("login %s/%s", SMTP_PASSWORD, IMAP_PASSWORD, stack_info=True)
    try:
        raise RuntimeError(f"connect to {settings.database_url} failed: {WEBHOOK_SECRET}")
    except RuntimeError:
        library.exception("store down")
    assert caplog.text.count(redact.MASK) >= 6
    for secret in SECRETS:
        for form in written(secret):
            assert form not in caplog.text
    assert redact.redact(f"token {TOKEN}!") == f"token {redact.MASK}!"


class BreakingProxy:
    """Passes Bot API calls on to the fake, but answers chosen ones with broken HTTP."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.breaks: dict[str, int] = {}
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> BreakingProxy:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            method, path, _ = head[0].split(" ", 2)
            headers = dict(line.split(":", 1) for line in head[1:] if ":" in line)
            headers = {name.lower(): value.strip() for name, value in headers.items()}
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            name = path.rsplit("/", 1)[-1]
            if self.breaks.get(name, 0) > 0:
                self.breaks[name] -= 1
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: not-a-number\r\n\r\n{")
            else:
                kind = {"Content-Type": headers.get("content-type", "application/json")}
                async with (
                    aiohttp.ClientSession() as session,
                    session.request(method, self.upstream + path, data=body, headers=kind) as got,
                ):
                    data = await got.read()
                writer.write(
                    f"HTTP/1.1 {got.status} X\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode()
                    + data
                )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def proxy(fake_telegram: FakeTelegramServer) -> AsyncIterator[BreakingProxy]:
    upstream = fake_telegram.base_url.removesuffix("/bot")
    breaking = await BreakingProxy(upstream).start()
    try:
        yield breaking
    finally:
        await breaking.stop()


async def dump(service: Service) -> str:
    """Every row of every table, as text."""
    rows: list[str] = []
    async with service.store.transaction() as session:
        for table in Base.metadata.sorted_tables:
            rows.extend(repr(tuple(row)) for row in await session.execute(select(table)))
    return "\n".join(rows)


async def test_bot_at_debug_through_failures_writes_no_secret(
    database_url: str,
    tmp_path: Path,
    fake_telegram: FakeTelegramServer,
    proxy: BreakingProxy,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        # Trust authentication ignores it; it still is a secret in the settings.
        database_url = url.set(password=DB_PASSWORD).render_as_string(hide_password=False)
    with SmtpServer(credentials={"bot": "the-right-one"}) as smtp:
        settings = make_settings(
            database_url,
            tmp_path,
            telegram_bot_token=TOKEN,
            telegram_api_base_url=f"http://127.0.0.1:{proxy.port}/bot",
            telegram_messages_per_second=0,
            smtp_host="127.0.0.1",
            smtp_port=smtp.port,
            smtp_security="none",
            smtp_user="bot",
            smtp_password=SMTP_PASSWORD,
            mail_from="osrodek@example.pl",
            imap_password=IMAP_PASSWORD,
            webhook_secret=WEBHOOK_SECRET,
            log_level="DEBUG",
        )
        caplog.set_level(logging.DEBUG)
        configure_logging(settings)
        service = Service(settings)
        await service.prepare()
        stop = asyncio.Event()
        task = asyncio.create_task(service.run_telegram(stop))
        try:
            await wait_until(lambda: fake_telegram.calls("deleteWebhook") or task.done())
            # A broken HTTP answer to one reply, a 500 to another, a refused SMTP login.
            proxy.breaks["sendMessage"] = 1
            fake_telegram.push_message(701, "/start")
            await wait_until(lambda: proxy.breaks["sendMessage"] == 0)
            fake_telegram.fail_next("sendMessage", 702, code=500)
            fake_telegram.push_message(702, "/start")
            async with service.store.transaction() as session:
                await outbox.enqueue(
                    session,
                    channel="email",
                    recipient="maria@example.pl",
                    payload={"subject": "Test", "text": "Test"},
                    idempotency_key="secrets-test",
                )
            # As every producer in the process does after its commit (handlers/core/services.py).
            service.services.on_outbox_written()

            async def errors() -> list[str]:
                async with service.store.transaction() as session:
                    found = await session.scalars(
                        select(OutboxMessage.last_error).where(
                            OutboxMessage.last_error.is_not(None)
                        )
                    )
                    return list(found)

            await wait_until(lambda: _at_least(errors, 3), timeout=20)
        finally:
            stop.set()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, timeout=15)
        failures = await errors()
        # An error text that quotes the token (as an HTTP library's error quotes the
        # URL) is redacted where the store records it.
        async with service.store.transaction() as session:
            quoted = await outbox.enqueue(
                session,
                channel="telegram",
                recipient="703",
                payload={"text": "x"},
                idempotency_key="secrets-quoted",
            )
            assert quoted is not None
            await outbox.mark_failed(
                session, quoted, error=f"POST https://x/bot{TOKEN}/sendMessage: 502"
            )
        stored = await dump(service)
        await service.close()
    log = caplog.text
    assert "DEBUG" in log
    for secret in SECRETS:
        for form in written(secret):
            assert form not in log, f"{secret} in the log"
            assert form not in stored, f"{secret} in the store"
    # The failures did happen, and what they said was kept, without the token.
    assert len(failures) >= 3
    assert f"POST https://x/bot{redact.MASK}/sendMessage: 502" in stored


async def _at_least(errors: object, count: int) -> bool:
    assert callable(errors)
    return len(await errors()) >= count
