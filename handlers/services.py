"""What every handler may use besides the store session: texts, content, settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from handlers.content import Centre
from handlers.i18n import Translator


@dataclass
class Services:
    translator: Translator
    centre: Centre
    timezone: ZoneInfo
    coordinator_ids: frozenset[int] = frozenset()
    # Called after a transaction queued outgoing messages, to wake the sender.
    on_outbox_written: Callable[[], None] = field(default=lambda: None)

    def is_coordinator(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.coordinator_ids
