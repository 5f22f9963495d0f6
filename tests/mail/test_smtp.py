"""Sending through the outbox over real SMTP (aiosmtpd): a chat reply arrives threaded;
SMTP errors become RetryLater / PermanentFailure; no header injection from people's text."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest
from aiosmtpd.controller import Controller

from bot.app import Service
from bot.config import Settings
from bot.errors import PermanentFailure, RetryLater
from bot.mail.compose import BadPayload, build_message
from bot.mail.parse import parse_mail
from bot.mail.smtp import SmtpTransport, classify
from handlers.mailbox.buttons import MailReply
from handlers.mailbox.receiving import MailPolicy, receive_mail
from storage.models import OutboxMessage
from tests.conftest import COORDINATOR_ID
from tests.harness import ChatHarness
from tests.mail import corpus
from tests.mail.conftest import MAIL_FROM, mail_settings, outbox_rows
from tests.servers.ports import LOOPBACK, free_port
from tests.servers.smtp import SmtpServer


@pytest.fixture
async def harness(sqlite_url: str, tmp_path: Path, smtp: SmtpServer) -> AsyncIterator[ChatHarness]:
    service = Service(mail_settings(sqlite_url, tmp_path, None, smtp))
    harness = ChatHarness(service)
    transport = SmtpTransport(service.settings)
    harness.sender.transports["email"] = transport
    try:
        yield harness
    finally:
        await transport.close()
        await service.close()


async def test_reply_from_chat_arrives_at_smtp_server_with_threading_headers(
    harness: ChatHarness, smtp: SmtpServer
) -> None:
    service = harness.service
    _first, second, _third = corpus.conversation()
    async with service.store.transaction() as session:
        result = await receive_mail(
            session, service.services, [parse_mail(second)], MailPolicy(notify=False)
        )
    anna = harness.person(COORDINATOR_ID, coordinator=True)
    await anna.send("/start")
    await anna.press("Tak, zgadzam")
    await anna.choose(MailReply(result.stored[0]).pack())
    await anna.send("Dzień dobry, sala jest wolna.\r\nBcc: wyciek@example.com")
    await anna.press("Wyślij")  # the harness drains the outbox: the e-mail goes out now

    [received] = await smtp.await_messages(1)
    message = received.message
    assert received.rcpt_tos == ["maria@example.pl"]
    assert received.mail_from == "bot@lokalnie.test"
    assert str(message["From"]) == MAIL_FROM
    assert message["Subject"] == "Re: Wynajem sali na spotkanie"
    assert message["In-Reply-To"] == "<thread-2.maria@example.pl>"
    assert message["References"] == "<thread-1.maria@example.pl> <thread-2.maria@example.pl>"
    assert message["Bcc"] is None
    text = received.text.replace("\r\n", "\n")
    assert text.startswith("Dzień dobry, sala jest wolna.\nBcc: wyciek@example.com\n\n")
    assert "Maria <maria@example.pl> pisze:\n> Jeszcze jedno pytanie." in text
    [row] = await outbox_rows(service, "email")
    assert row.status == "sent"
    assert message["Message-ID"] == f"<{row.payload['message_id']}>"


def test_build_message_people_text_cannot_add_headers_or_recipients() -> None:
    payload = {
        "subject": "Pytanie\r\nBcc: wyciek@example.com",
        "text": "Treść",
        "message_id": "abc@lokalnie.test",
        "in_reply_to": "x@y>\r\nBcc: z@w",
    }
    message = build_message("maria@example.pl", payload, mail_from=MAIL_FROM)
    raw = message.as_bytes(policy=policy.SMTP)
    parsed = BytesParser(policy=policy.default).parsebytes(raw)
    assert parsed["Bcc"] is None and parsed["In-Reply-To"] is None
    assert parsed["Subject"] == "Pytanie Bcc: wyciek@example.com"
    with pytest.raises(BadPayload):
        build_message("maria@example.pl, wyciek@example.com", payload, mail_from=MAIL_FROM)


def test_build_message_bulk_has_list_unsubscribe_and_precedence() -> None:
    payload = {"subject": "Nowości", "text": "Program", "bulk": True}
    message = build_message("maria@example.pl", payload, mail_from=MAIL_FROM)
    assert message["Precedence"] == "bulk"
    assert message["List-Unsubscribe"] == "<mailto:bot@lokalnie.test?subject=unsubscribe>"
    with_url = dict(payload, list_unsubscribe="https://lokalnie.test/u/123")
    message = build_message("maria@example.pl", with_url, mail_from=MAIL_FROM)
    assert message["List-Unsubscribe"] == "<https://lokalnie.test/u/123>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_build_message_without_message_id_gets_one_stable_across_retries() -> None:
    payload = {"subject": "Potwierdzenie", "text": "Wniosek przyjęty"}
    first = build_message("maria@example.pl", payload, mail_from=MAIL_FROM)
    second = build_message("maria@example.pl", payload, mail_from=MAIL_FROM)
    assert first["Message-ID"] == second["Message-ID"]
    assert str(first["Message-ID"]).endswith("@lokalnie.test>")


class Scripted:
    """An aiosmtpd handler answering RCPT and DATA as a test says."""

    def __init__(self, refuse: dict[str, str] | None = None, data: str | None = None) -> None:
        self.refuse = refuse or {}
        self.data = data
        self.accepted: list[list[str]] = []

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.data:
            return self.data
        self.accepted.append(list(envelope.rcpt_tos))
        return "250 OK"


@pytest.fixture
def scripted() -> Iterator[tuple[Scripted, int]]:
    handler = Scripted()
    port = free_port()
    controller = Controller(handler, hostname=LOOPBACK, port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def _settings(tmp_path: Path, port: int, **extra: Any) -> Settings:
    from tests.conftest import make_settings

    return make_settings(
        f"sqlite+aiosqlite:///{tmp_path}/x.db",
        tmp_path,
        smtp_host=LOOPBACK,
        smtp_port=port,
        smtp_security="none",
        mail_from=MAIL_FROM,
        **extra,
    )


async def test_smtp_transport_partly_refused_reports_who_was_missed(
    scripted: tuple[Scripted, int], tmp_path: Path
) -> None:
    handler, port = scripted
    handler.refuse = {"nikt@example.pl": "550 5.1.1 no such user"}
    missed: list[dict[str, str]] = []

    async def on_partial(recipient: str, payload: dict[str, Any], refused: dict[str, str]) -> None:
        missed.append(refused)

    transport = SmtpTransport(_settings(tmp_path, port), on_partial_refusal=on_partial)
    payload = {"subject": "Zebranie", "text": "W piątek", "cc": ["nikt@example.pl"]}
    try:
        await transport.deliver("maria@example.pl", payload)
    finally:
        await transport.close()
    assert handler.accepted == [["maria@example.pl"]]
    assert missed == [{"nikt@example.pl": "550 5.1.1 no such user"}]


@pytest.mark.parametrize(
    ("refusal", "error"),
    [("550 5.1.1 no such user", PermanentFailure), ("450 4.2.1 try later", RetryLater)],
)
async def test_smtp_transport_recipient_refused_maps_by_code(
    scripted: tuple[Scripted, int], tmp_path: Path, refusal: str, error: type
) -> None:
    handler, port = scripted
    handler.refuse = {"maria@example.pl": refusal}
    transport = SmtpTransport(_settings(tmp_path, port))
    try:
        with pytest.raises(error, match=refusal.split()[0]):
            await transport.deliver("maria@example.pl", {"subject": "S", "text": "T"})
    finally:
        await transport.close()


@pytest.mark.parametrize(
    ("answer", "error"),
    [("554 5.6.0 message refused", PermanentFailure), ("451 4.3.0 busy", RetryLater)],
)
async def test_smtp_transport_data_refused_maps_by_code(
    scripted: tuple[Scripted, int], tmp_path: Path, answer: str, error: type
) -> None:
    handler, port = scripted
    handler.data = answer
    transport = SmtpTransport(_settings(tmp_path, port))
    try:
        with pytest.raises(error):
            await transport.deliver("maria@example.pl", {"subject": "S", "text": "T"})
    finally:
        await transport.close()


async def test_smtp_transport_wrong_password_is_a_permanent_failure(tmp_path: Path) -> None:
    with SmtpServer(credentials={"bot": "s3cret"}) as server:
        settings = _settings(tmp_path, server.port, smtp_user="bot", smtp_password="wrong")
        transport = SmtpTransport(settings)
        try:
            with pytest.raises(PermanentFailure, match="login refused"):
                await transport.deliver("maria@example.pl", {"subject": "S", "text": "T"})
        finally:
            await transport.close()


async def test_smtp_transport_server_down_is_retried_later(tmp_path: Path) -> None:
    transport = SmtpTransport(_settings(tmp_path, free_port()), timeout=5)
    with pytest.raises(RetryLater):
        await transport.deliver("maria@example.pl", {"subject": "S", "text": "T"})
    await transport.close()


async def test_smtp_transport_reuses_connection_and_survives_server_closing_it(
    scripted: tuple[Scripted, int], tmp_path: Path
) -> None:
    handler, port = scripted
    transport = SmtpTransport(_settings(tmp_path, port))
    try:
        await transport.deliver("a@example.pl", {"subject": "1", "text": "T"})
        assert transport._client is not None
        transport._client.close()  # as a server does with an idle connection
        await transport.deliver("b@example.pl", {"subject": "2", "text": "T"})
    finally:
        await transport.close()
    assert handler.accepted == [["a@example.pl"], ["b@example.pl"]]


def test_classify_timeouts_and_disconnects_retry_auth_and_5xx_give_up() -> None:
    assert isinstance(classify(aiosmtplib.SMTPServerDisconnected("gone")), RetryLater)
    assert isinstance(classify(aiosmtplib.SMTPReadTimeoutError("slow")), RetryLater)
    assert isinstance(classify(ConnectionRefusedError()), RetryLater)
    assert isinstance(classify(aiosmtplib.SMTPAuthenticationError(535, "no")), PermanentFailure)
    assert isinstance(classify(aiosmtplib.SMTPSenderRefused(553, "no", "x")), PermanentFailure)
    assert isinstance(classify(aiosmtplib.SMTPSenderRefused(421, "busy", "x")), RetryLater)
    assert isinstance(classify(aiosmtplib.SMTPNotSupported("no STARTTLS")), PermanentFailure)


async def test_outbox_email_refused_for_good_is_marked_failed(
    scripted: tuple[Scripted, int], sqlite_url: str, tmp_path: Path
) -> None:
    from bot.delivery import OutboxSender
    from storage import outbox

    handler, port = scripted
    handler.refuse = {"zly@example.pl": "550 5.1.1 no such user"}
    settings = _settings(tmp_path, port).model_copy(update={"database_url": sqlite_url})
    service = Service(settings)
    transport = SmtpTransport(settings)
    try:
        async with service.store.transaction() as session:
            await outbox.enqueue(
                session,
                channel="email",
                recipient="zly@example.pl",
                payload={"subject": "S", "text": "T"},
                idempotency_key="refused",
            )
        await OutboxSender(service.store, {"email": transport}).drain()
        [row] = await outbox_rows(service, "email")
    finally:
        await transport.close()
        await service.close()
    assert isinstance(row, OutboxMessage)
    assert row.status == "failed" and "550" in (row.last_error or "")
