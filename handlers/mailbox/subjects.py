"""Subjects and Message-IDs of the mailbox's conversations."""

from __future__ import annotations

import re
import uuid

from handlers.core.services import Services
from handlers.mailbox.events import SYNTHETIC_ID_DOMAIN

SUBJECT_PREFIX = re.compile(
    r"^\s*(?:\[[^\]]{0,40}\]\s*)?(?:re|odp|fwd?|pd|aw|wg|tr)\s*(?:\[\d+\]|\(\d+\))?\s*:\s*",
    re.IGNORECASE,
)
WHITESPACE = re.compile(r"\s+")


def bare_subject(subject: str) -> str:
    """The subject without its Re:/Odp:/Fwd:/PD: prefixes (repeated, any case)."""
    text = subject or ""
    while True:
        stripped = SUBJECT_PREFIX.sub("", text, count=1)
        if stripped == text:
            return WHITESPACE.sub(" ", text).strip()
        text = stripped


def subject_key(subject: str) -> str:
    """What two subjects of one conversation have in common, for threading."""
    return bare_subject(subject).casefold()[:255]


def reply_subject(subject: str) -> str:
    return "Re: " + (bare_subject(subject) or "")


def new_message_id(services: Services) -> str:
    """A Message-ID for a message we send, fixed when it is queued (without <>)."""
    domain = services.centre.email.rpartition("@")[2].lower() or "localhost"
    return f"{uuid.uuid4().hex}@{domain}"


def real_id(message_id: str | None) -> str | None:
    """Made-up ids (for mail that had none) never go into another e-mail's headers."""
    if not message_id or message_id.endswith(SYNTHETIC_ID_DOMAIN):
        return None
    return message_id
