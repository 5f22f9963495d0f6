"""Broadcasts, announcements and the record of scheduled jobs that ran."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.types import utcnow

DRAFT, SCHEDULED, SENDING, DONE, CANCELLED = "draft", "scheduled", "sending", "done", "cancelled"


class Broadcast(Base):
    """A coordinator's message to an audience; recipients are expanded into the outbox."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    text: Mapped[str] = mapped_column(Text)
    # Optional photo or document: {"name", "mime_type", "content_b64"}.
    file: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Further messages each recipient gets after the first, in order:
    # [{"text": ..., "file": {...} | None}] (e.g. survey results and their charts).
    extra: Mapped[list[Any] | None] = mapped_column(JSON)
    audience: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(16), default=DRAFT, index=True)
    scheduled_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # Recipients written to the outbox (the expansion resumes after a crash).
    total: Mapped[int] = mapped_column(Integer, default=0)
    expanded: Mapped[bool] = mapped_column(default=False)
    # Where the coordinator watches the progress (channel and chat).
    progress_channel: Mapped[str | None] = mapped_column(String(16))
    progress_chat: Mapped[str | None] = mapped_column(String(320))


class Announcement(Base):
    """When the contest results are announced (set by the coordinator)."""

    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contest: Mapped[str] = mapped_column(String(40), unique=True)
    at: Mapped[datetime]
    set_by: Mapped[int | None] = mapped_column(BigInteger)
    done_at: Mapped[datetime | None]


class JobRun(Base):
    """A scheduled job that has run: written with its effects, so it never runs twice."""

    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(String(200), unique=True)
    ran_at: Mapped[datetime] = mapped_column(default=utcnow)
    outcome: Mapped[str | None] = mapped_column(Text)
