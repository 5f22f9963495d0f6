"""The fake Bot API's side of the users: pushed updates, getUpdates long polls, webhooks."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import threading
import time
from typing import Any

from tests.fakes.bot_api_common import (
    BOT_USER,
    FAKE_JPEG,
    NOT_DEFAULT_UPDATES,
    ApiError,
    inline_keyboard,
    utf16_len,
)


class UpdateQueue:
    """Simulated users write; the bot polls for what they wrote."""

    # State shared by the parts, created by FakeTelegramServer._reset_state.
    _lock: threading.RLock
    _changed: threading.Condition
    _updates: list[dict[str, Any]]
    _users: dict[int, dict[str, Any]]
    _messages: dict[tuple[Any, int], dict[str, Any]]
    _callbacks: dict[str, dict[str, Any]]
    _allowed_updates: list[str] | None
    _webhook_url: str
    _closing: bool
    _loop: asyncio.AbstractEventLoop | None
    _poll_waiters: set[asyncio.Future[None]]
    _update_ids: itertools.count[int]
    _message_ids: itertools.count[int]
    _callback_ids: itertools.count[int]

    def _notify_pollers(self) -> None:
        """Wake long polls from any thread; the waiters live on the server loop."""
        loop = self._loop
        if loop is None:
            return
        with contextlib.suppress(RuntimeError):  # loop closing
            loop.call_soon_threadsafe(self._wake_pollers)

    def _wake_pollers(self) -> None:
        waiters, self._poll_waiters = self._poll_waiters, set()
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    def _user(
        self,
        user_id: int,
        first_name: str | None = None,
        language_code: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
    ) -> dict[str, Any]:
        known = self._users.get(user_id, {})
        user: dict[str, Any] = {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name or known.get("first_name") or "Anna",
        }
        for key, value in (
            ("last_name", last_name),
            ("username", username),
            ("language_code", language_code),
        ):
            if value is None:
                value = known.get(key)
            if value is not None:
                user[key] = value
        self._users[user_id] = user
        return user

    def _chat(self, chat_id: Any) -> dict[str, Any]:
        try:
            numeric = int(chat_id)
        except (TypeError, ValueError):
            return {"id": -1000000000001, "type": "channel", "title": str(chat_id)}
        if numeric < 0:
            return {"id": numeric, "type": "supergroup", "title": "Group"}
        user = self._users.get(numeric, {})
        chat: dict[str, Any] = {
            "id": numeric,
            "type": "private",
            "first_name": user.get("first_name", "Anna"),
        }
        if "last_name" in user:
            chat["last_name"] = user["last_name"]
        if "username" in user:
            chat["username"] = user["username"]
        return chat

    def _enqueue(self, chat_id: Any, kind: str, payload: dict[str, Any]) -> int:
        """Queue an update (lock held); the caller wakes long polls."""
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, kind: payload})
        return update_id

    def _push_user_message(
        self,
        user_id: int,
        extra: dict[str, Any],
        *,
        first_name: str | None,
        language_code: str | None,
        last_name: str | None = None,
        username: str | None = None,
    ) -> int:
        with self._lock:
            user = self._user(user_id, first_name, language_code, last_name, username)
            message: dict[str, Any] = {
                "message_id": next(self._message_ids),
                "from": user,
                "chat": self._chat(user_id),
                "date": int(time.time()),
                **extra,
            }
            self._messages[(user_id, message["message_id"])] = message
            update_id = self._enqueue(user_id, "message", message)
        self._notify_pollers()
        return update_id

    def push_message(
        self,
        user_id: int,
        text: str,
        first_name: str = "Anna",
        language_code: str | None = "pl",
        *,
        last_name: str | None = None,
        username: str | None = None,
    ) -> int:
        """Queue a private text message from a user; '/cmd' gets a bot_command entity."""
        extra: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            extra["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(command)}]
        return self._push_user_message(
            user_id,
            extra,
            first_name=first_name,
            language_code=language_code,
            last_name=last_name,
            username=username,
        )

    def push_callback(
        self,
        user_id: int,
        data: str,
        message_id: int | None = None,
        *,
        first_name: str | None = None,
        language_code: str | None = None,
    ) -> int:
        """Queue a button press; without message_id the latest bot message offering it is used."""
        with self._lock:
            user = self._user(user_id, first_name, language_code)
            message = self._find_callback_message(user_id, data, message_id)
            query_id = f"cbq-{next(self._callback_ids)}"
            query = {
                "id": query_id,
                "from": user,
                "message": message,
                "chat_instance": f"ci-{user_id}",
                "data": data,
            }
            self._callbacks[query_id] = {"user_id": user_id, "data": data, "message": message}
            update_id = self._enqueue(user_id, "callback_query", query)
        self._notify_pollers()
        return update_id

    def _find_callback_message(
        self, chat_id: int, data: str, message_id: int | None
    ) -> dict[str, Any]:
        if message_id is not None:
            found = self._messages.get((chat_id, message_id))
            if found is not None:
                return json.loads(json.dumps(found))
        else:
            bot_messages = [
                m
                for (cid, _), m in self._messages.items()
                if cid == chat_id and m.get("from", {}).get("is_bot")
            ]
            for msg in reversed(bot_messages):
                buttons = itertools.chain.from_iterable(inline_keyboard(msg.get("reply_markup")))
                if any(b.get("callback_data") == data for b in buttons):
                    return json.loads(json.dumps(msg))
            if bot_messages:
                return json.loads(json.dumps(bot_messages[-1]))
        return {
            "message_id": message_id if message_id is not None else next(self._message_ids),
            "from": BOT_USER,
            "chat": self._chat(chat_id),
            "date": int(time.time()),
            "text": "",
        }

    def push_sticker(self, user_id: int, emoji: str = "👍") -> int:
        """Queue a sticker message (no text) to test the bot's fallback for unsupported input."""
        file_id = self._new_file(b"RIFF-fake-webp", "sticker.webp", "image/webp", "stickers")
        sticker = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        return self._push_user_message(
            user_id, {"sticker": sticker}, first_name=None, language_code=None
        )

    def push_photo(
        self, user_id: int, caption: str | None = None, content: bytes = FAKE_JPEG
    ) -> int:
        """Queue a photo message (two sizes, no text); getFile serves ``content``."""
        sizes = []
        for width, height in ((90, 67), (800, 600)):
            file_id = self._new_file(content, f"photo_{width}.jpg", "image/jpeg", "photos")
            sizes.append(
                {
                    "file_id": file_id,
                    "file_unique_id": f"u{file_id}",
                    "width": width,
                    "height": height,
                    "file_size": len(content),
                }
            )
        extra: dict[str, Any] = {"photo": sizes}
        if caption is not None:
            extra["caption"] = caption
        return self._push_user_message(user_id, extra, first_name=None, language_code=None)

    def push_document(
        self,
        user_id: int,
        file_name: str,
        content: bytes = b"fake document",
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
    ) -> int:
        """Queue a document message; getFile + download return ``content``."""
        file_id = self._new_file(content, file_name, mime_type, "documents")
        document = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": len(content),
        }
        extra: dict[str, Any] = {"document": document}
        if caption is not None:
            extra["caption"] = caption
        return self._push_user_message(user_id, extra, first_name=None, language_code=None)

    def pending_updates(self) -> list[dict[str, Any]]:
        """Queued updates not yet confirmed by an offset."""
        with self._lock:
            return [dict(u) for u in self._updates]

    async def _m_get_updates(
        self, params: dict[str, Any], files: Any, record: Any
    ) -> list[dict[str, Any]]:
        """Long poll: answer as soon as updates are queued or ``timeout`` seconds pass."""
        loop = asyncio.get_running_loop()
        offset = int(params.get("offset") or 0)
        limit = max(1, min(100, int(params.get("limit") or 100)))
        timeout = max(0.0, float(params.get("timeout") or 0))
        deadline = loop.time() + timeout
        allowed = params.get("allowed_updates")
        with self._lock:
            if self._webhook_url:
                raise ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            if isinstance(allowed, list):
                self._allowed_updates = list(allowed) or None
        while True:
            with self._lock:
                result = self._take_updates(offset, limit)
            if result or self._closing:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                return []
            waiter: asyncio.Future[None] = loop.create_future()
            self._poll_waiters.add(waiter)
            try:
                await asyncio.wait_for(waiter, remaining)
            except TimeoutError:
                return []
            finally:
                self._poll_waiters.discard(waiter)

    def _take_updates(self, offset: int, limit: int) -> list[dict[str, Any]]:
        """Confirm (drop) updates below offset and return up to limit allowed ones (lock held)."""
        if offset < 0:
            self._updates = self._updates[offset:]
        elif offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        allowed = self._allowed_updates
        kept: list[dict[str, Any]] = []
        for update in self._updates:
            kind = next((k for k in update if k != "update_id"), "")
            wanted = kind in allowed if allowed else kind not in NOT_DEFAULT_UPDATES
            if wanted:
                kept.append(update)
        self._updates = kept  # Telegram never delivers filtered-out updates later
        return [json.loads(json.dumps(u)) for u in kept[:limit]]

    async def _m_delete_webhook(self, params: dict[str, Any], files: Any, record: Any) -> bool:
        with self._lock:
            self._webhook_url = ""
            if params.get("drop_pending_updates"):
                self._updates = []
        return True

    async def _m_set_webhook(self, params: dict[str, Any], files: Any, record: Any) -> bool:
        with self._lock:
            self._webhook_url = str(params.get("url") or "")
            if params.get("drop_pending_updates"):
                self._updates = []
        return True

    async def _m_get_webhook_info(
        self, params: dict[str, Any], files: Any, record: Any
    ) -> dict[str, Any]:
        with self._lock:
            return {
                "url": self._webhook_url,
                "has_custom_certificate": False,
                "pending_update_count": len(self._updates),
            }
