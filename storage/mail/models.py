"""The mailbox's tables: messages, threads, attachments, the IMAP checkpoint and the
acknowledgement log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base
from storage.types import utcnow

OPEN = "open"
HANDLED = "handled"
IN = "in"
OUT = "out"


class MailThread(Base):
    """A conversation by e-mail: one resident (or stranger) and the centre."""

    __tablename__ = "mail_threads"
    __table_args__ = (
        Index("ix_mail_threads_subject_key_counterpart", "subject_key", "counterpart"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject: Mapped[str] = mapped_column(Text, default="")
    # The subject without Re:/Odp:/Fwd:/PD:, folded; with `counterpart`, the last
    # resort for threading a reply that lost its In-Reply-To and References.
    subject_key: Mapped[str] = mapped_column(String(255), default="")
    # The other side's address (the sender of the first incoming message).
    counterpart: Mapped[str] = mapped_column(String(320), default="")
    status: Mapped[str] = mapped_column(String(16), default=OPEN, index=True)
    resident_id: Mapped[int | None] = mapped_column(
        ForeignKey("residents.id", ondelete="SET NULL"), index=True
    )
    # The proposal this thread was linked to or turned into (the contest's reference).
    proposal_ref: Mapped[str | None] = mapped_column(String(64))
    message_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_message_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    handled_at: Mapped[datetime | None]
    handled_by: Mapped[int | None] = mapped_column(BigInteger)


class MailMessage(Base):
    """One e-mail, incoming (read over IMAP) or outgoing (sent through the outbox)."""

    __tablename__ = "mail_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    thread_id: Mapped[int] = mapped_column(
        ForeignKey("mail_threads.id", ondelete="CASCADE"), index=True
    )
    direction: Mapped[str] = mapped_column(String(3), default=IN)
    # Without the angle brackets; unique: the same e-mail is never stored twice.
    message_id: Mapped[str] = mapped_column(String(500), unique=True)
    folder: Mapped[str | None] = mapped_column(String(200))
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    uid: Mapped[int | None] = mapped_column(BigInteger)
    seen: Mapped[bool] = mapped_column(Boolean, default=False)
    in_reply_to: Mapped[str | None] = mapped_column(String(500))
    reference_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    from_name: Mapped[str] = mapped_column(Text, default="")
    from_address: Mapped[str] = mapped_column(String(320), default="", index=True)
    # [[name, address], ...]
    to: Mapped[list[Any]] = mapped_column(JSON, default=list)
    cc: Mapped[list[Any]] = mapped_column(JSON, default=list)
    reply_to: Mapped[list[Any]] = mapped_column(JSON, default=list)
    subject: Mapped[str] = mapped_column(Text, default="")
    date: Mapped[datetime | None]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    text: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str | None] = mapped_column(Text)
    # [[name, value], ...] in the order of the message.
    headers: Mapped[list[Any]] = mapped_column(JSON, default=list)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    auth: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Why no automatic answer may go to it (auto-reply, list, mailer-daemon ...).
    automatic: Mapped[str | None] = mapped_column(String(40))
    parse_error: Mapped[str | None] = mapped_column(Text)
    # The message as received, kept only when it could not be read completely.
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)
    resident_id: Mapped[int | None] = mapped_column(
        ForeignKey("residents.id", ondelete="SET NULL"), index=True
    )
    # Who wrote an outgoing message (a coordinator's Telegram id; None = automatic).
    author_id: Mapped[int | None] = mapped_column(BigInteger)
    # Set by /forget: the content was erased, the row stays so the mail is not
    # imported again from the server.
    erased_at: Mapped[datetime | None]


class MailAttachment(Base):
    __tablename__ = "mail_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("mail_messages.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(Text, default="")
    content_type: Mapped[str] = mapped_column(String(200), default="application/octet-stream")
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    # Relative to DATA_DIR; None when not kept (see `skipped`).
    path: Mapped[str | None] = mapped_column(String(300))
    skipped: Mapped[str | None] = mapped_column(String(32))


class MailCheckpoint(Base):
    """Where the watcher stopped in one folder."""

    __tablename__ = "mail_checkpoints"

    folder: Mapped[str] = mapped_column(String(200), primary_key=True)
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class MailAcknowledgement(Base):
    """An automatic acknowledgement sent: at most one per address and local day."""

    __tablename__ = "mail_acknowledgements"
    __table_args__ = (UniqueConstraint("address", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    address: Mapped[str] = mapped_column(String(320))
    day: Mapped[str] = mapped_column(String(10))
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("mail_messages.id", ondelete="SET NULL")
    )
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProvenAddress(Base):
    """An e-mail address a resident proved to be theirs; only these link mail to them.

    `how` is "code" (a code sent to the address was typed back in the chat) or
    "reply" (a reply to the contest's confirmation e-mail came from the address).
    An address belongs to at most one resident: the latest proof wins.
    """

    __tablename__ = "mail_proven_addresses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), index=True
    )
    address: Mapped[str] = mapped_column(String(320), unique=True)
    proven_at: Mapped[datetime] = mapped_column(default=utcnow)
    how: Mapped[str] = mapped_column(String(10))


class AddressChallenge(Base):
    """A proof in progress: a code e-mailed to `address` (kept as a hash), or the
    Message-ID of a confirmation e-mail whose reply from `address` proves it."""

    __tablename__ = "mail_address_challenges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), index=True
    )
    address: Mapped[str] = mapped_column(String(320))
    kind: Mapped[str] = mapped_column(String(10))
    code_hash: Mapped[str | None] = mapped_column(String(64))
    message_id: Mapped[str | None] = mapped_column(String(998), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
