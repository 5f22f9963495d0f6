"""The fake Bot API's messages: what the bot sends, edits and deletes, callback answers
and command menus."""

from __future__ import annotations

import itertools
import json
import threading
import time
from typing import Any

from tests.fakes.bot_api_common import (
    BOT_USER,
    ApiError,
    inline_keyboard,
    same_chat,
)


class Messages:
    """Messages the bot sends, stored so that edits and button presses find them."""

    # State shared by the parts, created by FakeTelegramServer._reset_state.
    _lock: threading.RLock
    _changed: threading.Condition
    _messages: dict[tuple[Any, int], dict[str, Any]]
    _callbacks: dict[str, dict[str, Any]]
    _answered: list[dict[str, Any]]
    _commands: dict[tuple[str, str], list[dict[str, Any]]]
    _message_ids: itertools.count[int]

    async def _m_true(self, params: dict[str, Any], files: Any, record: Any) -> bool:
        return True

    async def _m_get_me(self, params: dict[str, Any], files: Any, record: Any) -> dict[str, Any]:
        return dict(BOT_USER)

    def _bot_message(self, params: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
        """Build and store a Message the bot sent (lock held)."""
        chat_id = params.get("chat_id")
        if chat_id is None:
            raise ApiError(400, "Bad Request: chat_id is empty")
        chat = self._chat(chat_id)
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "from": dict(BOT_USER),
            "chat": chat,
            "date": int(time.time()),
            **extra,
        }
        # Telegram echoes only inline keyboards; reply keyboards are not part of the Message.
        markup = params.get("reply_markup")
        if inline_keyboard(markup):
            message["reply_markup"] = markup
        self._messages[(chat["id"], message["message_id"])] = message
        return message

    async def _m_send_message(
        self, params: dict[str, Any], files: Any, record: dict[str, Any]
    ) -> dict[str, Any]:
        text = params.get("text")
        if not isinstance(text, str) or not text:
            raise ApiError(400, "Bad Request: message text is empty")
        with self._lock:
            message = self._bot_message(params, {"text": text})
        record["message_id"] = message["message_id"]
        return message

    def _locate(self, params: dict[str, Any]) -> dict[str, Any]:
        message_id = params.get("message_id")
        for (cid, mid), msg in self._messages.items():
            if mid == message_id and same_chat(cid, params.get("chat_id")):
                return msg
        raise ApiError(400, "Bad Request: message to edit not found")

    async def _m_edit_message_text(
        self, params: dict[str, Any], files: Any, record: dict[str, Any]
    ) -> dict[str, Any] | bool:
        text = params.get("text")
        if not isinstance(text, str) or not text:
            raise ApiError(400, "Bad Request: message text is empty")
        if params.get("inline_message_id"):
            return True
        markup = params.get("reply_markup")
        with self._lock:
            message = self._locate(params)
            new_markup = markup if inline_keyboard(markup) else None
            if message.get("text") == text and message.get("reply_markup") == new_markup:
                raise ApiError(
                    400,
                    "Bad Request: message is not modified: specified new message content and "
                    "reply markup are exactly the same as a current content and reply markup "
                    "of the message",
                )
            message["text"] = text
            message.pop("reply_markup", None)
            if new_markup is not None:
                message["reply_markup"] = new_markup
            message["edit_date"] = int(time.time())
            record["message_id"] = message["message_id"]
            return json.loads(json.dumps(message))

    async def _m_edit_reply_markup(
        self, params: dict[str, Any], files: Any, record: dict[str, Any]
    ) -> dict[str, Any] | bool:
        if params.get("inline_message_id"):
            return True
        markup = params.get("reply_markup")
        with self._lock:
            message = self._locate(params)
            new_markup = markup if inline_keyboard(markup) else None
            if message.get("reply_markup") == new_markup:
                raise ApiError(
                    400,
                    "Bad Request: message is not modified: specified new message content and "
                    "reply markup are exactly the same as a current content and reply markup "
                    "of the message",
                )
            message.pop("reply_markup", None)
            if new_markup is not None:
                message["reply_markup"] = new_markup
            message["edit_date"] = int(time.time())
            record["message_id"] = message["message_id"]
            return json.loads(json.dumps(message))

    async def _m_delete_message(self, params: dict[str, Any], files: Any, record: Any) -> bool:
        with self._lock:
            try:
                message = self._locate(params)
            except ApiError as err:
                raise ApiError(400, "Bad Request: message to delete not found") from err
            self._messages.pop((message["chat"]["id"], message["message_id"]), None)
        return True

    async def _m_answer_callback(self, params: dict[str, Any], files: Any, record: Any) -> bool:
        with self._lock:
            query = self._callbacks.get(str(params.get("callback_query_id")), {})
            self._answered.append(
                {**params, "data": query.get("data"), "user_id": query.get("user_id")}
            )
        return True

    async def _m_set_commands(self, params: dict[str, Any], files: Any, record: Any) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        key = (self._scope_key(params.get("scope")), str(params.get("language_code") or ""))
        with self._lock:
            self._commands[key] = [dict(c) for c in commands]
        return True

    async def _m_get_commands(
        self, params: dict[str, Any], files: Any, record: Any
    ) -> list[dict[str, Any]]:
        key = (self._scope_key(params.get("scope")), str(params.get("language_code") or ""))
        with self._lock:
            return [dict(c) for c in self._commands.get(key, [])]

    async def _m_delete_commands(self, params: dict[str, Any], files: Any, record: Any) -> bool:
        key = (self._scope_key(params.get("scope")), str(params.get("language_code") or ""))
        with self._lock:
            self._commands.pop(key, None)
        return True
