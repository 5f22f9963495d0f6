"""The e-mail channel's sender: outbox rows of channel "email" -> SMTP (aiosmtplib).

Errors become the delivery error tree (`bot.errors`), following what SMTP means:

    connection refused / lost, time-outs, 4xx ........ RetryLater (the outbox backs off)
    5xx, all recipients refused with 5xx ............. PermanentFailure
    login refused, TLS/AUTH not offered .............. PermanentFailure

A refused address is a PermanentFailure, not RecipientGone: the sender treats
RecipientGone as "blocked the Telegram bot" and would stop the resident's chat
messages because of a mistyped e-mail address. Permanent failures reach the
coordinators through the sender's `on_permanent_failure`.

aiosmtplib raises nothing when only some recipients were refused; the returned
dict is read and `on_partial_refusal` tells the coordinators who was missed.

One connection is kept and reused (bulk mail), one message at a time; when the
server has closed it in the meantime, the message is retried once on a fresh
connection.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiosmtplib

from bot.config import Settings
from bot.errors import DeliveryError, PermanentFailure, RetryLater
from bot.mail.compose import BadPayload, build_message, mailbox

log = logging.getLogger(__name__)

CHANNEL = "email"
RETRY_SECONDS = 60.0

PartialRefusal = Callable[[str, dict[str, Any], dict[str, str]], Awaitable[None]]


def classify(error: BaseException) -> DeliveryError:
    """The delivery error an aiosmtplib (or network) error means for the outbox."""
    if isinstance(error, aiosmtplib.SMTPAuthenticationError):
        return PermanentFailure(f"SMTP login refused: {error.code} {error.message}")
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        # No code on the exception itself: each refused recipient has its own.
        codes = [r.code for r in error.recipients]
        details = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in error.recipients)
        if codes and all(500 <= code < 600 for code in codes):
            return PermanentFailure(f"recipient refused: {details}")
        return RetryLater(f"recipient deferred: {details}", delay=RETRY_SECONDS)
    if isinstance(error, aiosmtplib.SMTPResponseException):
        text = f"SMTP {error.code} {error.message}"
        if 500 <= error.code < 600:
            return PermanentFailure(text)
        return RetryLater(text, delay=RETRY_SECONDS)
    if isinstance(error, aiosmtplib.SMTPNotSupported):
        return PermanentFailure(f"SMTP server does not support what we need: {error}")
    if isinstance(error, (aiosmtplib.SMTPException, OSError, TimeoutError)):
        return RetryLater(f"SMTP unavailable: {type(error).__name__}: {error}", delay=30.0)
    return RetryLater(f"SMTP: {type(error).__name__}: {error}", delay=RETRY_SECONDS)


class SmtpTransport:
    """Implements `bot.delivery.Transport` for channel "email"."""

    channel = CHANNEL

    def __init__(
        self,
        settings: Settings,
        *,
        timeout: float = 30.0,
        on_partial_refusal: PartialRefusal | None = None,
    ) -> None:
        assert settings.smtp_host, "SMTP_HOST is not set"
        self.settings = settings
        self.mail_from = settings.mail_from or settings.smtp_user or ""
        self.timeout = timeout
        self.on_partial_refusal = on_partial_refusal
        self._client: aiosmtplib.SMTP | None = None
        # One connection, one message at a time, even when the sender serves chats
        # concurrently.
        self._lock = asyncio.Lock()

    def _new_client(self) -> aiosmtplib.SMTP:
        s = self.settings
        return aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_user or None,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
            use_tls=s.smtp_security == "ssl",
            start_tls=True if s.smtp_security == "starttls" else False,
            timeout=self.timeout,
            local_hostname="lokalnie",
        )

    async def _connected(self) -> tuple[aiosmtplib.SMTP, bool]:
        """The client, connected; and whether it is an older, reused connection."""
        if self._client is not None and self._client.is_connected:
            return self._client, True
        await self.close()
        client = self._new_client()
        await client.connect()
        self._client = client
        return client, False

    async def deliver(self, recipient: str, payload: dict[str, Any]) -> str | None:
        """Send one e-mail; returns its Message-ID."""
        try:
            message = build_message(recipient, payload, mail_from=self.mail_from)
            envelope_from = mailbox(self.mail_from).addr_spec
        except (BadPayload, ValueError, TypeError) as error:
            raise PermanentFailure(f"cannot build the e-mail: {error}") from None
        recipients = [a.addr_spec for a in message["To"].addresses]
        if message["Cc"]:
            recipients += [a.addr_spec for a in message["Cc"].addresses]
        async with self._lock:
            refused = await self._send(message, envelope_from, recipients)
        if refused:
            log.warning("e-mail to %s: some recipients refused: %s", recipient, refused)
            if self.on_partial_refusal is not None:
                await self.on_partial_refusal(recipient, payload, refused)
        return str(message["Message-ID"]).strip("<>")

    async def _send(self, message: Any, sender: str, recipients: list[str]) -> dict[str, str]:
        for attempt in (1, 2):
            reused = False
            try:
                client, reused = await self._connected()
                errors, _response = await client.send_message(
                    message, sender=sender, recipients=recipients
                )
                return {address: f"{r.code} {r.message}" for address, r in errors.items()}
            except aiosmtplib.SMTPServerDisconnected as error:
                await self.close()
                if reused and attempt == 1:
                    continue  # the server closed an idle connection: once more, fresh
                raise classify(error) from error
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
                await self.close()
                raise classify(error) from error
        raise RetryLater("SMTP connection lost twice", delay=RETRY_SECONDS)

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            if client.is_connected:
                await client.quit()
        except Exception:  # noqa: BLE001 - closing a broken connection may fail
            client.close()
