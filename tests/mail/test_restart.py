"""Kill -9 the real `lokalnie run` in the middle of importing 2,000 e-mails, start it again:
every e-mail is stored exactly once, and every coordinator is told about each exactly once.
Also `lokalnie mail sync|list|show` as an operator runs them."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from bot.cli import app
from storage import mail as mail_store
from storage.db import Store
from storage.mail import MailMessage
from storage.models import OutboxMessage
from tests.conftest import CONTENT, COORDINATOR_ID, ROOT
from tests.e2e.conftest import TOKEN
from tests.e2e.test_restart import BotProcess
from tests.fakes.telegram_api import FakeTelegramServer
from tests.mail import corpus
from tests.mail.conftest import fill_maildir, wait_until
from tests.servers.dovecot import DovecotServer, ImapAccount

COUNT = 2000


def many(count: int) -> list[bytes]:
    """`count` distinct small e-mails (a real client's shape, distinct ids and subjects)."""
    template = corpus.utf8_thunderbird(0).raw
    return [
        template.replace(b"<utf8-0@example.pl>", f"<bulk-{n}@example.pl>".encode()).replace(
            b"ceramiki nr 0", f"ceramiki nr {n}".encode()
        )
        for n in range(count)
    ]


def imap_env(imap: ImapAccount) -> dict[str, str]:
    return {
        "IMAP_HOST": imap.host,
        "IMAP_PORT": str(imap.port),
        "IMAP_USER": imap.user,
        "IMAP_PASSWORD": imap.password,
        "IMAP_SECURITY": "none",
    }


@pytest.fixture
def mail_bot(
    sqlite_url: str, tmp_path: Path, fake_telegram: FakeTelegramServer, imap: ImapAccount
) -> Iterator[BotProcess]:
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("TELEGRAM_", "DATABASE_", "IMAP_", "SMTP_", "MAIL_"))
        },
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": fake_telegram.base_url,
        "TELEGRAM_MESSAGES_PER_SECOND": "0",
        "DATABASE_URL": sqlite_url,
        "CONTENT_DIR": str(CONTENT),
        "DATA_DIR": str(tmp_path / "data"),
        "COORDINATOR_IDS": str(COORDINATOR_ID),
        "PYTHONPATH": str(ROOT),
        **imap_env(imap),
    }
    process = BotProcess(env, tmp_path)
    yield process
    if process.alive():
        process.kill()


async def _count(url: str) -> tuple[int, int, int]:
    """(e-mails stored, distinct Message-IDs, notifications queued)."""
    store = Store(url)
    try:
        async with store.transaction() as session:
            stored = await session.scalar(select(func.count()).select_from(MailMessage))
            distinct = await session.scalar(
                select(func.count(func.distinct(MailMessage.message_id)))
            )
            notified = await session.scalar(
                select(func.count()).where(OutboxMessage.idempotency_key.like("mail:new:%"))
            )
        return int(stored or 0), int(distinct or 0), int(notified or 0)
    finally:
        await store.close()


async def _checkpoint(url: str) -> int | None:
    store = Store(url)
    try:
        async with store.transaction() as session:
            saved = await mail_store.checkpoint(session, "INBOX")
            return saved.last_uid if saved else None
    finally:
        await store.close()


@pytest.mark.slow
async def test_bot_killed_while_importing_2000_emails_stores_each_exactly_once(
    sqlite_url: str, imap: ImapAccount, dovecot_server: DovecotServer, mail_bot: BotProcess
) -> None:
    mail_bot.start()

    # The bot has seen the empty folder: from now on, mail is new and notified.
    async def folder_seen() -> bool:
        return await _checkpoint(sqlite_url) is not None

    await wait_until(folder_seen, timeout=60)
    await asyncio.to_thread(fill_maildir, dovecot_server, imap.user, many(COUNT))

    # Watched through a plain read-only connection, polled often: in WAL mode a reader
    # never waits for the importing writer, and the kill must land while it is going on.
    path = sqlite_url.split("///", 1)[1]
    reader = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        deadline = asyncio.get_running_loop().time() + 60
        while reader.execute("SELECT count(*) FROM mail_messages").fetchone()[0] < 50:
            assert asyncio.get_running_loop().time() < deadline, "the import did not start"
            await asyncio.sleep(0.005)
    finally:
        reader.close()
    mail_bot.kill()
    stored, _distinct, _notified = await _count(sqlite_url)
    assert 50 <= stored < COUNT, "killed in the middle of the import"

    mail_bot.start()

    async def all_imported() -> bool:
        return (await _count(sqlite_url))[0] >= COUNT and await _checkpoint(sqlite_url) == COUNT

    await wait_until(all_imported, timeout=120)
    mail_bot.kill()
    assert await _count(sqlite_url) == (COUNT, COUNT, COUNT)
    store = Store(sqlite_url)
    async with store.transaction() as session:
        ids = set(await session.scalars(select(MailMessage.message_id)))
    await store.close()
    assert ids == {f"bulk-{n}@example.pl" for n in range(COUNT)}


def test_cli_mail_sync_list_show(
    sqlite_url: str, tmp_path: Path, imap: ImapAccount, dovecot_server: DovecotServer
) -> None:
    fill_maildir(
        dovecot_server, imap.user, [corpus.utf8_thunderbird().raw, corpus.iso_8859_2_qp().raw]
    )
    env = {
        "DATABASE_URL": sqlite_url,
        "CONTENT_DIR": str(CONTENT),
        "DATA_DIR": str(tmp_path / "data"),
        "TELEGRAM_BOT_TOKEN": "",
        **imap_env(imap),
    }
    runner = CliRunner()

    synced = runner.invoke(app, ["mail", "sync"], env=env)
    assert synced.exit_code == 0, synced.output
    assert "Nowe wiadomości: 2" in synced.output

    listed = runner.invoke(app, ["mail", "list"], env=env)
    assert listed.exit_code == 0, listed.output
    assert "Zgłoszenie: świetlica" in listed.output and "zofia@example.pl" in listed.output

    as_json = json.loads(runner.invoke(app, ["mail", "list", "--format", "json"], env=env).output)
    first = next(m for m in as_json if m["from"] == "zofia@example.pl")
    shown = runner.invoke(app, ["mail", "show", str(first["id"])], env=env)
    assert "Od: Zofia Łukasiewicz <zofia@example.pl>" in shown.output
    assert corpus.POLISH in shown.output
    detail = json.loads(
        runner.invoke(app, ["mail", "show", str(first["id"]), "--format", "json"], env=env).output
    )
    assert detail["message_id"] == "utf8-1@example.pl"

    missing = runner.invoke(app, ["mail", "show", "999"], env=env)
    assert missing.exit_code == 2
