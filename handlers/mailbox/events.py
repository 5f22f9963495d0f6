"""The shape an e-mail crosses the boundary in, from the mail adapter to the handlers.

`bot.mail.parse` turns raw MIME into an `IncomingMail`; `handlers.mailbox.inbox` stores
it, threads it and tells the coordinators. Like `handlers.core.events` for chat, it is
plain data, so handlers never import e-mail code.

A long mailbox import parses in another process and pickles every record back, so
the records pickle as the arguments of their constructors (`__reduce__`): no
attribute dictionaries to build and copy, and long non-ASCII texts travel as UTF-16,
which decodes about three times faster than pickle's UTF-8.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# Message-IDs we make up for mail that has none end with this (never a real domain).
SYNTHETIC_ID_DOMAIN = "@lokalnie.invalid"


# Texts at least this long and not ASCII travel as UTF-16 (see the docstring).
PACKED_TEXT = 1024


def _pack(text: str | None) -> str | bytes | None:
    if text is None or len(text) < PACKED_TEXT or text.isascii():
        return text
    # "surrogatepass": parsed text may hold lone surrogates, and they must survive.
    return text.encode("utf-16-le", "surrogatepass")


def _unpack(text: str | bytes | None) -> str | None:
    if isinstance(text, bytes):
        return text.decode("utf-16-le", "surrogatepass")
    return text


@dataclass(frozen=True, slots=True)
class Address:
    name: str
    address: str  # lower-case; "" when the header held no usable address

    def __reduce__(self) -> tuple[Any, ...]:
        return (Address, (self.name, self.address))


@dataclass(slots=True)
class IncomingAttachment:
    filename: str
    content_type: str
    size: int
    # The bytes, or None when over the size cap (then `skipped` says why).
    content: bytes | None
    sha256: str | None = None
    skipped: str | None = None
    # Where the adapter wrote the bytes, relative to DATA_DIR.
    path: str | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            IncomingAttachment,
            (
                self.filename,
                self.content_type,
                self.size,
                self.content,
                self.sha256,
                self.skipped,
                self.path,
            ),
        )


@dataclass(slots=True)
class IncomingMail:
    message_id: str
    subject: str = ""
    sender: Address = field(default_factory=lambda: Address("", ""))
    to: list[Address] = field(default_factory=list)
    cc: list[Address] = field(default_factory=list)
    reply_to: list[Address] = field(default_factory=list)
    date: datetime | None = None
    text: str = ""
    # Sanitised HTML of the message, when it had an HTML part.
    html: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    size: int = 0
    # Authentication-Results verdicts of the receiving server: {"spf": "pass", ...}.
    auth: dict[str, str] = field(default_factory=dict)
    # Why nobody may answer this automatically (RFC 3834), e.g. "auto-submitted".
    automatic: str | None = None
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    attachments: list[IncomingAttachment] = field(default_factory=list)
    # What went wrong while reading it; `raw` is then kept so nothing is lost.
    parse_error: str | None = None
    raw: bytes | None = None
    # Where it came from on the server (set by the watcher).
    folder: str | None = None
    uidvalidity: int | None = None
    uid: int | None = None
    seen: bool = False

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _incoming_mail,
            (
                self.message_id,
                self.subject,
                self.sender,
                self.to,
                self.cc,
                self.reply_to,
                self.date,
                _pack(self.text),
                _pack(self.html),
                self.headers,
                self.size,
                self.auth,
                self.automatic,
                self.in_reply_to,
                self.references,
                self.attachments,
                self.parse_error,
                self.raw,
                self.folder,
                self.uidvalidity,
                self.uid,
                self.seen,
            ),
        )

    @property
    def answer_to(self) -> Address:
        """Where a reply goes: Reply-To when given, else From."""
        for address in self.reply_to:
            if address.address:
                return address
        return self.sender


def _incoming_mail(*values: Any) -> IncomingMail:
    """An `IncomingMail` from its pickled form (`IncomingMail.__reduce__`)."""
    mail = IncomingMail(*values)
    mail.text = _unpack(mail.text)  # type: ignore[arg-type]
    mail.html = _unpack(mail.html)
    return mail
