"""What the fake Bot API's parts share: the bot account, parameter decoding, errors."""

from __future__ import annotations

import json
from typing import Any

#: The bot account answered by getMe and used as ``from`` of every message the bot sends.
BOT_USER: dict[str, Any] = {
    "id": 7000000001,
    "is_bot": True,
    "first_name": "Lokalnie",
    "username": "lokalnie_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}

#: Methods that deliver something to a user; ``sent()`` and latency tracking look at these.
SENT_METHODS: frozenset[str] = frozenset(
    {"sendMessage", "sendDocument", "sendPhoto", "sendMediaGroup", "editMessageText"}
)

# Form values PTB sends as plain strings; everything else is JSON-encoded by PTB.
STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "url",
        "action",
        "language_code",
        "secret_token",
        "file_id",
        "description",
        "short_description",
        "name",
        "title",
        "ip_address",
    }
)

ERROR_DESCRIPTIONS = {
    400: "Bad Request: chat not found",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request",
    500: "Internal Server Error",
    502: "Bad Gateway",
}

# Real Telegram leaves these out unless asked for explicitly.
NOT_DEFAULT_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

FAKE_JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 60 + b"\xff\xd9"


def utf16_len(text: str) -> int:
    """Telegram entity offsets/lengths count UTF-16 code units, not code points."""
    return len(text.encode("utf-16-le")) // 2


def reject_constant(value: str) -> Any:
    raise ValueError(value)


def coerce(key: str, value: str) -> Any:
    """Turn a form value back into the JSON value PTB encoded (PTB JSON-encodes non-strings)."""
    if key in STRING_PARAMS:
        return value
    try:
        parsed = json.loads(value, parse_constant=reject_constant)
    except ValueError:
        return value
    if parsed is None or isinstance(parsed, dict | list | bool | int | float):
        return parsed
    return value


def same_chat(a: Any, b: Any) -> bool:
    return a is not None and b is not None and str(a) == str(b)


def inline_keyboard(markup: Any) -> list[list[dict[str, Any]]]:
    if isinstance(markup, dict) and isinstance(markup.get("inline_keyboard"), list):
        return markup["inline_keyboard"]
    return []


class Rule:
    """One injected failure or delay, matched by method (and optionally chat)."""

    __slots__ = ("method", "chat_id", "times", "payload", "after")

    def __init__(
        self, method: str, chat_id: Any, times: int | None, payload: Any, *, after: int = 0
    ) -> None:
        self.method = method
        self.chat_id = chat_id
        self.times = times
        self.payload = payload
        # Matching calls let through before the rule applies.
        self.after = after

    def matches(self, method: str, chat_id: Any) -> bool:
        if self.method != method:
            return False
        return self.chat_id is None or same_chat(self.chat_id, chat_id)


class ApiError(Exception):
    """A Bot API error answer (ok=false) raised by a method handler."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
