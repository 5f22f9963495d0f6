"""Entries a coordinator made on behalf of a resident without a smartphone."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class EntryOnBehalf(Base):
    """A paper questionnaire or a proposal taken by phone or in person, and its consent.

    The answers themselves are a survey response or a proposal owned by a resident
    row that stands for the person (`resident_id`), not the coordinator. For an
    anonymous survey `response_id` is cut when the entry is finished, and the day
    alone is kept (`entered_on`), so the entry cannot be matched with the answers.
    """

    __tablename__ = "entries_on_behalf"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # "survey" or "proposal"; `subject` is the survey's or the contest's slug.
    kind: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(40), index=True)
    # "paper", "phone" or "in_person" (also written on the response / proposal).
    channel: Mapped[str] = mapped_column(String(16))
    # "signed" (a paper consent form) or "oral"; the note states it in words.
    consent: Mapped[str] = mapped_column(String(16))
    consent_note: Mapped[str] = mapped_column(Text)
    resident_id: Mapped[int | None] = mapped_column(
        ForeignKey("residents.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    # The coordinator's Telegram id: who entered it for the centre.
    entered_by: Mapped[int] = mapped_column(BigInteger)
    entered_on: Mapped[datetime]
    response_id: Mapped[int | None] = mapped_column(Integer, index=True)
    proposal_id: Mapped[int | None] = mapped_column(
        ForeignKey("proposals.id", ondelete="SET NULL"), index=True
    )
    # "open" while the coordinator is entering it, "done" once finished.
    status: Mapped[str] = mapped_column(String(16), default="open")
