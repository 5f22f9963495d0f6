"""The e-mail channel: `imap` reads the mailbox, `smtp` sends, `parse` reads MIME."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the parser and the connection import this package; the settings are hints
    from bot.config import Settings


def imap_configured(settings: Settings) -> bool:
    """Whether the mailbox watcher should run (IMAP_HOST and IMAP_USER set)."""
    return bool(settings.imap_host and settings.imap_user)


def smtp_configured(settings: Settings) -> bool:
    """Whether e-mail can be sent (SMTP_HOST and a sender address set)."""
    return bool(settings.smtp_host and (settings.mail_from or settings.smtp_user))
