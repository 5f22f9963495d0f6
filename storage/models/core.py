"""Residents and what the service keeps about talking to them: conversations, the
outbox, the event log, inbound receipts, survey responses and participations."""

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
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.types import utcnow


class Resident(Base):
    """A person the bot talks to. Personal fields are emptied by /forget."""

    __tablename__ = "residents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(8), default="pl")
    consent_given_at: Mapped[datetime | None]
    consent_withdrawn_at: Mapped[datetime | None]
    subscribed: Mapped[bool] = mapped_column(Boolean, default=False)
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    forgotten_at: Mapped[datetime | None]
    # The day of the last message from the person: the retention period runs
    # from it (None on rows from before it was kept: then consent or creation).
    last_active_at: Mapped[datetime | None]

    @property
    def has_consent(self) -> bool:
        return self.consent_given_at is not None and self.consent_withdrawn_at is None


class Conversation(Base):
    """What a resident is in the middle of: one flow, one step, answers so far."""

    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), unique=True
    )
    flow: Mapped[str] = mapped_column(String(64))
    step: Mapped[str] = mapped_column(String(64))
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class OutboxMessage(Base):
    """A message waiting to be (or already) delivered; written with its cause."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(320))
    resident_id: Mapped[int | None] = mapped_column(
        ForeignKey("residents.id", ondelete="SET NULL"), index=True
    )
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # 0 = conversation replies first; 1 = bulk (broadcasts, reminders) after them.
    priority: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The channel's id of the delivered message (to edit it later, e.g. progress).
    external_id: Mapped[str | None] = mapped_column(String(100))
    # The broadcast this message belongs to, if any (to count and cancel).
    broadcast_id: Mapped[int | None] = mapped_column(Integer, index=True)


class Event(Base):
    """The event log: what happened, to whom, when (no personal details in data)."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    resident_id: Mapped[int | None] = mapped_column(
        ForeignKey("residents.id", ondelete="SET NULL"), index=True
    )
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class InboundReceipt(Base):
    """An inbound update already processed, so a redelivery is not acted on twice."""

    __tablename__ = "inbound_receipts"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class SurveyResponse(Base):
    """One resident's pass through one survey: started, then finished."""

    __tablename__ = "survey_responses"
    __table_args__ = (Index("ix_survey_responses_survey_resident", "survey", "resident_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey: Mapped[str] = mapped_column(String(40), index=True)
    # Kept while the response is in progress (to resume it). Finishing an
    # anonymous survey cuts it (a SurveyParticipation keeps "took part");
    # /forget cuts it for every survey.
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default="started")
    language: Mapped[str] = mapped_column(String(8), default="pl")
    channel: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class SurveyAnswer(Base):
    """One answer; `value` is JSON shaped by the question type (null = skipped)."""

    __tablename__ = "survey_answers"
    __table_args__ = (UniqueConstraint("response_id", "question"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    response_id: Mapped[int] = mapped_column(
        ForeignKey("survey_responses.id", ondelete="CASCADE"), index=True
    )
    question: Mapped[str] = mapped_column(String(40))
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)


class SurveyParticipation(Base):
    """A resident finished an anonymous survey: no link to the answers.

    No time on purpose: a time could be matched with a response's.
    """

    __tablename__ = "survey_participations"
    __table_args__ = (Index("ix_survey_participations_survey_resident", "survey", "resident_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey: Mapped[str] = mapped_column(String(40))
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))


class SurveyContact(Base):
    """The contact part of an anonymous survey's response, kept apart from the answers.

    The answer to the consent question, and only when it is yes: the resident,
    the "I would lead / join" interest and the contact details they typed in.
    `given_on` is the day (midnight UTC), so it cannot be matched with a response.
    """

    __tablename__ = "survey_contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey: Mapped[str] = mapped_column(String(40), index=True)
    resident_id: Mapped[int | None] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), index=True
    )
    consent: Mapped[bool] = mapped_column(Boolean)
    interest: Mapped[list[str]] = mapped_column(JSON, default=list)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    given_on: Mapped[datetime]


class InboundUpdate(Base):
    """A Telegram update as it came, stored before it is confirmed to Telegram; handled
    (`handled_at`) in the same transaction as its effects, so a crash loses none."""

    __tablename__ = "inbound_updates"
    __table_args__ = (
        UniqueConstraint("bot_id", "update_id"),
        # The worker's question: the oldest not yet handled.
        Index("ix_inbound_updates_pending", "handled_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bot_id: Mapped[int] = mapped_column(BigInteger)
    update_id: Mapped[int] = mapped_column(BigInteger)
    chat_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    handled_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
