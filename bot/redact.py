"""Secrets never reach a log line or a stored error.

The bot token is part of every Bot API URL, and PTB, httpx and aiohttp put that
URL into their DEBUG lines and into the text of their errors; a database URL may
carry a password, and SMTP/IMAP libraries echo what they were given. Rather than
trusting each library, the root logger's handlers get a filter that formats each
record (message, arguments, traceback, stack) and replaces every known secret,
and `redact` does the same for error texts the service stores.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import quote

from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from bot.config import Settings

MASK = "[redacted]"

_secrets: tuple[str, ...] = ()


def secrets_of(settings: Settings) -> list[str]:
    """Every secret the settings hold, as configured."""
    found = [
        value.get_secret_value()
        for value in (
            settings.telegram_bot_token,
            settings.smtp_password,
            settings.imap_password,
            settings.webhook_secret,
            settings.panel_secret,
        )
        if value is not None
    ]
    password = make_url(settings.database_url).password
    if password:
        found.append(str(password))
    return found


def remember(secrets: Iterable[str]) -> None:
    """Add secrets to those `redact` replaces (kept for the life of the process)."""
    global _secrets
    variants = set(_secrets)
    for secret in secrets:
        if secret:
            # As written, and as it appears inside a URL (the token's ":" as %3A).
            variants.update({secret, quote(secret, safe=""), quote(secret)})
    # Longest first: a secret that contains another is replaced whole.
    _secrets = tuple(sorted(variants, key=len, reverse=True))


def forget_all() -> None:
    """Drop every remembered secret (for tests that configure several services)."""
    global _secrets
    _secrets = ()


def redact(text: str) -> str:
    """`text` with every remembered secret replaced by a mask."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class RedactingFilter(logging.Filter):
    """Formats a record once and replaces the secrets in what a handler will write."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:
            # Arguments that do not fit the format: the handler would report that
            # itself; keep both parts, redacted, instead of raising in the caller.
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install(settings: Settings) -> None:
    """Remember the settings' secrets and filter every handler of the root logger."""
    remember(secrets_of(settings))
    for handler in logging.getLogger().handlers:
        if not any(isinstance(existing, RedactingFilter) for existing in handler.filters):
            handler.addFilter(RedactingFilter())
