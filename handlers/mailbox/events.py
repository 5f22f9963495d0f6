"""The shape an e-mail crosses the boundary in, from the mail adapter to the handlers.

`bot.mail.parse` turns raw MIME into an `IncomingMail`; `handlers.mailbox.receiving`
stores it, threads it and tells the coordinators. Like `handlers.core.events` for chat,
it is plain data, so handlers never import e-mail code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# Message-IDs we make up for mail that has none end with this (never a real domain).
SYNTHETIC_ID_DOMAIN = "@lokalnie.invalid"


@dataclass(frozen=True, slots=True)
class Address:
    name: str
    address: str  # lower-case; "" when the header held no usable address


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
    # Authentication-Results verdicts by authserv-id: {"mx.example.pl": {"spf": "pass"}};
    # only the centre's own provider's are trusted (`MailPolicy.authserv_id`).
    auth: dict[str, dict[str, str]] = field(default_factory=dict)
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

    @property
    def answer_to(self) -> Address:
        """Where a reply goes: Reply-To when given, else From."""
        for address in self.reply_to:
            if address.address:
                return address
        return self.sender
