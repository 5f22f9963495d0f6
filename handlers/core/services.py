"""What every handler may use besides the store session: texts, content, settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from handlers.broadcasts.rules import ScheduleRules
from handlers.contest.model import Contest
from handlers.core.centre import Centre
from handlers.core.forms import Survey
from handlers.core.i18n import Translator
from storage.outbox import Claimed
from storage.types import utcnow


class ReplySender(Protocol):
    """A sender running in this process that takes a handler's replies as they are
    committed, already claimed: no claiming transaction of its own per reply."""

    def takes(self, channel: str) -> bool:
        """Whether it delivers `channel` now (else the replies are queued as pending)."""

    def take(self, replies: list[Claimed]) -> None:
        """Deliver these committed, claimed rows."""


@dataclass(frozen=True)
class Channels:
    """Which channels this process can use, from the settings: what the bot may promise.

    A message for a channel that is not configured would wait in the outbox forever,
    so the handlers say so instead of claiming it went out."""

    telegram: bool = False
    # E-mail can be sent (SMTP_* and a sender address set).
    email_out: bool = False
    # The centre's mailbox is read (IMAP_* set).
    mailbox: bool = False


@dataclass
class Services:
    translator: Translator
    centre: Centre
    timezone: ZoneInfo
    # The chat channel this process reaches people on, chosen by the adapter that
    # runs it (Telegram under `lokalnie run`, the terminal under `lokalnie chat`):
    # notices to coordinators, and answers to someone who is not writing, go there.
    chat_channel: str
    coordinator_ids: frozenset[int] = frozenset()
    surveys: dict[str, Survey] = field(default_factory=dict)
    # The local-initiatives contest, when content/contest.yaml is present and valid.
    contest: Contest | None = None
    # Where files are kept (attachments, downloads); the DATA_DIR setting.
    data_dir: Path = Path("data")
    # The current time (aware UTC); tests move it to open or close a survey.
    clock: Callable[[], datetime] = field(default=utcnow)
    # Called after a transaction queued outgoing messages, to wake the sender.
    on_outbox_written: Callable[[], None] = field(default=lambda: None)
    # The running sender that takes replies straight from the handler (`lokalnie run`).
    reply_sender: ReplySender | None = None
    # Called when something scheduled changed (a broadcast, an announcement time).
    on_schedule_changed: Callable[[], None] = field(default=lambda: None)
    schedule_rules: ScheduleRules = field(default_factory=ScheduleRules)

    # Chats shown the consent question by this process, with its language, so a typed
    # "tak" can answer it. Memory only: nothing is stored before consent, and after
    # a restart the question is simply shown again (handlers/core/start.py).
    consent_shown: dict[str, str] = field(default_factory=dict)

    # What is configured (Telegram, SMTP, IMAP); by default nothing is claimed.
    channels: Channels = field(default_factory=Channels)
    # A one-time sign-in link to the web panel for a coordinator's id; None when
    # the panel is not configured (PANEL_PORT / PANEL_URL unset).
    panel_link: Callable[[int], str] | None = None

    def is_coordinator(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.coordinator_ids
