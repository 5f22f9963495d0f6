"""What every handler may use besides the store session: texts, content, settings."""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
    """This process's running outbox sender, which can be handed replies directly."""

    @property
    def taking(self) -> bool:
        """True once it runs (and has re-queued what a previous run left in flight)."""

    def take(self, messages: Sequence[Claimed]) -> None:
        """Deliver these rows, committed as already claimed (`sending`) for it."""


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
    # Replies to an event are handed to this sender after their commit, which
    # spares it a claiming transaction per event (None: the sender claims them).
    reply_sender: ReplySender | None = None
    # Called when something scheduled changed (a broadcast, an announcement time).
    on_schedule_changed: Callable[[], None] = field(default=lambda: None)
    schedule_rules: ScheduleRules = field(default_factory=ScheduleRules)

    # What is configured (Telegram, SMTP, IMAP); by default nothing is claimed.
    channels: Channels = field(default_factory=Channels)

    def is_coordinator(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.coordinator_ids
