"""The test bed itself: each real server does what later tests rely on."""

from __future__ import annotations

import asyncio
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import aiosmtplib
import asyncpg
import pytest

from tests.servers import skip
from tests.servers.dovecot import DovecotError, ImapAccount, encode_mailbox, imap_session
from tests.servers.postgres import ThrowawayDatabase
from tests.servers.smtp import SmtpServer

SUBJECT = "Zgłoszenie inicjatywy – Kalisz Pomorski"
BODY = "Dzień dobry,\n\nchcemy zorganizować warsztaty ceramiki w świetlicy. Żółć i gęślą jaźń.\n"


def _polish_email(
    sender: str = "mieszkanka@example.pl", to: str = "dom.kultury@example.pl"
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"Zofia Łukasiewicz <{sender}>"
    message["To"] = to
    message["Subject"] = SUBJECT
    message.set_content(BODY)
    return message


async def test_smtp_server_polish_email_arrives_intact(smtp: SmtpServer) -> None:
    await aiosmtplib.send(_polish_email(), hostname=smtp.host, port=smtp.port)

    [received] = await smtp.await_messages(1)

    assert received.mail_from == "mieszkanka@example.pl"
    assert received.rcpt_tos == ["dom.kultury@example.pl"]
    assert received.subject == SUBJECT
    assert received.text == BODY
    assert str(received.message["From"]) == "Zofia Łukasiewicz <mieszkanka@example.pl>"


async def test_smtp_fixture_new_test_starts_empty(smtp: SmtpServer) -> None:
    assert smtp.messages == []


async def test_smtp_server_no_message_wait_times_out_with_count(smtp: SmtpServer) -> None:
    with pytest.raises(TimeoutError, match="expected 1 e-mail"):
        await smtp.await_messages(1, timeout=0.2)


def test_smtp_server_with_credentials_accepts_only_right_password() -> None:
    async def send(password: str) -> None:
        await aiosmtplib.send(
            _polish_email(),
            hostname=server.host,
            port=server.port,
            username="bot",
            password=password,
            start_tls=False,
        )

    with SmtpServer(credentials={"bot": "s3cret"}) as server:
        asyncio.run(send("s3cret"))
        with pytest.raises(aiosmtplib.SMTPAuthenticationError):
            asyncio.run(send("wrong"))
        [received] = server.wait_for(1)
    assert received.login == "bot"


async def test_dovecot_appended_email_found_by_uid_search_and_fetch(imap: ImapAccount) -> None:
    uid = await imap.append(_polish_email())

    async with imap.session() as client:
        await client.select("INBOX")
        search = await client.uid_search("ALL", charset=None)
        uids = search.lines[0].split()
        fetch = await client.uid("fetch", uids[0].decode(), "(BODY.PEEK[])")

    assert search.result == "OK"
    assert [int(u) for u in uids] == [uid]
    literal = next(line for line in fetch.lines if isinstance(line, bytearray))
    parsed = BytesParser(policy=policy.default).parsebytes(bytes(literal))
    assert parsed["Subject"] == SUBJECT
    assert parsed.get_body(preferencelist=("plain",)).get_content() == BODY


async def test_dovecot_reset_mailbox_next_test_sees_empty_inbox(imap: ImapAccount) -> None:
    async with imap.session() as client:
        response = await client.select("INBOX")
    assert b"0 EXISTS" in b"\n".join(bytes(line) for line in response.lines if line)


async def test_dovecot_append_to_new_polish_folder_creates_it(imap: ImapAccount) -> None:
    folder = "Zgłoszenia przetworzone"
    await imap.append(_polish_email(), folder=folder)
    await imap.append(_polish_email(), folder=folder)

    async with imap.session() as client:
        response = await client.status(encode_mailbox(folder), "(MESSAGES)")

    assert response.result == "OK"
    assert b"MESSAGES 2" in bytes(response.lines[0])


async def test_dovecot_wrong_password_login_refused(imap: ImapAccount) -> None:
    with pytest.raises(DovecotError, match="login"):
        async with imap_session(imap.host, imap.port, imap.user, "not-the-password"):
            pass


async def test_postgres_throwaway_database_round_trip(postgres_db: ThrowawayDatabase) -> None:
    assert postgres_db.url.startswith("postgresql+asyncpg://")
    assert postgres_db.url.endswith(f"/{postgres_db.name}")

    conn = await asyncpg.connect(postgres_db.dsn)
    try:
        await conn.execute("CREATE TABLE inicjatywy (id serial PRIMARY KEY, tytul text NOT NULL)")
        await conn.execute("INSERT INTO inicjatywy (tytul) VALUES ($1)", SUBJECT)
        rows = await conn.fetch("SELECT id, tytul FROM inicjatywy")
        database = await conn.fetchval("SELECT current_database()")
    finally:
        await conn.close()

    assert [tuple(row) for row in rows] == [(1, SUBJECT)]
    assert database == postgres_db.name


def test_postgres_url_fixture_points_at_throwaway_database(
    postgres_url: str, postgres_db: ThrowawayDatabase
) -> None:
    assert postgres_url == postgres_db.url
    assert postgres_db.name is not None and postgres_db.name.startswith("lokalnie_test_")


@pytest.mark.slow
def test_postgres_throwaway_database_drop_removes_it(postgres_db: ThrowawayDatabase) -> None:
    with ThrowawayDatabase(postgres_db.server) as extra:
        name = extra.name

    async def exists() -> bool:
        conn = await asyncpg.connect(postgres_db.server.dsn())
        try:
            return bool(await conn.fetchval("SELECT 1 FROM pg_database WHERE datname=$1", name))
        finally:
            await conn.close()

    assert asyncio.run(exists()) is False


def test_require_missing_server_skips_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no server"):
        skip.require(False, "no server")


@pytest.mark.slow
def test_require_missing_server_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="no server"):
        skip.require(False, "no server")
