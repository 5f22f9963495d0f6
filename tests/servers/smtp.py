"""A real SMTP server on loopback (aiosmtpd) that records every message it receives.

The bot's mailer talks real SMTP to it, so tests cover aiosmtplib, MIME encoding and
envelope handling end to end instead of trusting a mock. Plain SMTP, no TLS; AUTH is
offered only when the server is built with ``credentials``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.servers.ports import LOOPBACK, free_port

_START_ATTEMPTS = 3


@dataclass(frozen=True)
class ReceivedMessage:
    """One message as the server got it: envelope plus the parsed content."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage
    login: str | None = None
    received_at: float = field(default_factory=time.time)

    @property
    def subject(self) -> str:
        """Decoded Subject header ('' when missing)."""
        return str(self.message.get("Subject", ""))

    @property
    def text(self) -> str:
        """The text/plain body (or text/html if there is no plain part), decoded."""
        body = self.message.get_body(preferencelist=("plain", "html"))
        return "" if body is None else str(body.get_content())


class _RecordingHandler:
    """aiosmtpd handler: parse each DATA into an EmailMessage and hand it to the server."""

    def __init__(self, sink: SmtpServer) -> None:
        self._sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        message = BytesParser(policy=policy.default).parsebytes(raw)
        login = session.auth_data.login if isinstance(session.auth_data, LoginPassword) else None
        self._sink._record(
            ReceivedMessage(
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                raw=bytes(raw),
                message=message,  # type: ignore[arg-type]  # policy.default gives EmailMessage
                login=login.decode("utf-8", "replace") if isinstance(login, bytes) else login,
            )
        )
        return "250 Message accepted for delivery"


class SmtpServer:
    """aiosmtpd Controller on a free 127.0.0.1 port, recording messages thread-safely.

    The Controller runs its own event loop in a thread, so it survives the per-test loops of
    pytest-asyncio and can be started once per session.
    """

    def __init__(self, credentials: Mapping[str, str] | None = None) -> None:
        self.host = LOOPBACK
        self.port = 0
        self._credentials = dict(credentials) if credentials else None
        self._messages: list[ReceivedMessage] = []
        self._cond = threading.Condition()
        self._controller: Controller | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> SmtpServer:
        """Start listening; retries with another port if the chosen one got taken meanwhile."""
        if self._controller is not None:
            return self
        smtp_kwargs: dict[str, Any] = {"enable_SMTPUTF8": True}
        if self._credentials is not None:
            smtp_kwargs.update(authenticator=self._authenticate, auth_require_tls=False)
        last_error: Exception | None = None
        for _ in range(_START_ATTEMPTS):
            port = free_port()
            controller = Controller(
                _RecordingHandler(self), hostname=self.host, port=port, **smtp_kwargs
            )
            try:
                controller.start()
            except Exception as exc:  # port race or slow start: try a fresh port
                last_error = exc
                try:
                    controller.stop()
                except Exception:  # it may not have started at all
                    pass
                continue
            self._controller = controller
            self.port = port
            return self
        raise RuntimeError(f"aiosmtpd did not start on {self.host}: {last_error!r}")

    def stop(self) -> None:
        """Stop the server (idempotent)."""
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- recorded messages -----------------------------------------------------------------

    def _record(self, message: ReceivedMessage) -> None:
        with self._cond:
            self._messages.append(message)
            self._cond.notify_all()

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword) or self._credentials is None:
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8", "replace")
        password = auth_data.password.decode("utf-8", "replace")
        ok = self._credentials.get(login) == password
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    @property
    def messages(self) -> list[ReceivedMessage]:
        """A snapshot of all messages received since the last ``clear()``."""
        with self._cond:
            return list(self._messages)

    def clear(self) -> None:
        """Forget received messages (called between tests)."""
        with self._cond:
            self._messages.clear()

    def wait_for(self, count: int, timeout: float = 10) -> list[ReceivedMessage]:
        """Block until at least ``count`` messages arrived; return them all.

        Raises TimeoutError naming how many did arrive, so a failing test says what happened.
        From async code use ``await_messages`` (or ``asyncio.to_thread(server.wait_for, n)``).
        """
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._messages) >= count, timeout):
                raise TimeoutError(
                    f"expected {count} e-mail(s) at {self.host}:{self.port} within {timeout}s, "
                    f"got {len(self._messages)}: {[m.subject for m in self._messages]!r}"
                )
            return list(self._messages)

    async def await_messages(
        self,
        count: int,
        timeout: float = 10,  # noqa: ASYNC109 - bounds the thread wait, which can't be cancelled
    ) -> list[ReceivedMessage]:
        """Async ``wait_for``: waits in a worker thread so the test's event loop keeps running."""
        return await asyncio.to_thread(self.wait_for, count, timeout)
