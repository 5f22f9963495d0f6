"""Fake Telegram Bot API server on loopback for offline tests and benchmarks.

The real python-telegram-bot ``Bot``/``Application`` talks to it over HTTP, so tests exercise
PTB's request encoding, error mapping and polling loop exactly as in production. Point PTB at it
with ``Application.builder().token(T).base_url(server.base_url)
.base_file_url(server.base_file_url)``; PTB then requests ``{base_url}{token}/{method}``.

The server runs in its own thread with its own event loop, so one instance can serve a whole
pytest session although every test gets a fresh event loop. All public methods are thread-safe.

Run it as a separate process for benchmarks (``python -m tests.fakes.telegram_api --port N``);
it is then driven through the JSON control API under ``/_control/``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import itertools
import json
import logging
import signal
import socket
import threading
import time
from collections.abc import Iterable
from typing import Any

from aiohttp import web

__all__ = ["BOT_USER", "SENT_METHODS", "FakeTelegramServer", "main"]

_LOG = logging.getLogger(__name__)

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
    {"sendMessage", "sendDocument", "sendPhoto", "editMessageText"}
)

# Form values PTB sends as plain strings; everything else is JSON-encoded by PTB.
_STRING_PARAMS = frozenset(
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

_ERROR_DESCRIPTIONS = {
    400: "Bad Request: chat not found",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request",
    500: "Internal Server Error",
    502: "Bad Gateway",
}

_UPDATE_TYPES = (
    "message",
    "edited_message",
    "channel_post",
    "callback_query",
    "inline_query",
    "my_chat_member",
    "chat_member",
)
# Real Telegram leaves these out unless asked for explicitly.
_NOT_DEFAULT_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

_FAKE_JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 60 + b"\xff\xd9"


def _utf16_len(text: str) -> int:
    """Telegram entity offsets/lengths count UTF-16 code units, not code points."""
    return len(text.encode("utf-16-le")) // 2


def _reject_constant(value: str) -> Any:
    raise ValueError(value)


def _coerce(key: str, value: str) -> Any:
    """Turn a form value back into the JSON value PTB encoded (PTB JSON-encodes non-strings)."""
    if key in _STRING_PARAMS:
        return value
    try:
        parsed = json.loads(value, parse_constant=_reject_constant)
    except ValueError:
        return value
    if parsed is None or isinstance(parsed, dict | list | bool | int | float):
        return parsed
    return value


def _same_chat(a: Any, b: Any) -> bool:
    return a is not None and b is not None and str(a) == str(b)


def _inline_keyboard(markup: Any) -> list[list[dict[str, Any]]]:
    if isinstance(markup, dict) and isinstance(markup.get("inline_keyboard"), list):
        return markup["inline_keyboard"]
    return []


def _percentile(sorted_values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile; good enough for benchmark summaries."""
    if not sorted_values:
        return None
    rank = max(1, min(len(sorted_values), round(pct / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


class _Rule:
    """One injected failure or delay, matched by method (and optionally chat)."""

    __slots__ = ("method", "chat_id", "times", "payload")

    def __init__(self, method: str, chat_id: Any, times: int | None, payload: Any) -> None:
        self.method = method
        self.chat_id = chat_id
        self.times = times
        self.payload = payload

    def matches(self, method: str, chat_id: Any) -> bool:
        if self.method != method:
            return False
        return self.chat_id is None or _same_chat(self.chat_id, chat_id)


class FakeTelegramServer:
    """In-process fake of the Telegram Bot API (see module docstring)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host = host
        self._requested_port = port
        self._port: int | None = None
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self._runner: web.AppRunner | None = None
        self._closing = False
        # Long-poll waiters: touched only from the server loop.
        self._poll_waiters: set[asyncio.Future[None]] = set()
        # Counters survive clear() so that ids never repeat within a session.
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._methods = self._method_table()
        self._reset_state()

    # ------------------------------------------------------------------ lifecycle

    @property
    def port(self) -> int:
        """Port the server listens on (known once started)."""
        if self._port is None:
            raise RuntimeError("FakeTelegramServer is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """Value for PTB ``base_url`` / TELEGRAM_API_BASE_URL (PTB appends the token)."""
        return f"http://{self._host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for PTB ``base_file_url``; file downloads are served from here."""
        return f"http://{self._host}:{self.port}/file/bot"

    @property
    def control_url(self) -> str:
        """Root of the JSON control API used by out-of-process drivers."""
        return f"http://{self._host}:{self.port}/_control"

    def start(self, timeout: float = 10.0) -> FakeTelegramServer:
        """Start serving in a background thread with its own event loop; returns self."""
        if self._thread is not None:
            raise RuntimeError("FakeTelegramServer already started")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, self._requested_port))
        self._port = sock.getsockname()[1]
        self._closing = False
        self._thread = threading.Thread(
            target=self._run, args=(sock,), name=f"fake-telegram-{self._port}", daemon=True
        )
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("FakeTelegramServer did not start in time")
        if self._startup_error is not None:
            raise RuntimeError("FakeTelegramServer failed to start") from self._startup_error
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving, end pending long polls and join the server thread."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        with contextlib.suppress(RuntimeError):  # loop already closed
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        if thread.is_alive():
            raise RuntimeError("FakeTelegramServer thread did not stop")
        with self._changed:
            self._changed.notify_all()
        self._thread = None
        self._loop = None
        self._ready.clear()

    def __enter__(self) -> FakeTelegramServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _run(self, sock: socket.socket) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            loop.run_until_complete(self._serve(sock))
        except BaseException as exc:  # noqa: BLE001 - reported to start()
            self._startup_error = exc
            sock.close()
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            try:
                loop.run_until_complete(self._shutdown())
                pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
                for task in pending:
                    task.cancel()
                if pending:
                    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
            finally:
                asyncio.set_event_loop(None)
                loop.close()

    async def _serve(self, sock: socket.socket) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_route("*", "/_control/{action}", self._handle_control)
        # handler_cancellation: a client that gives up on a long poll ends its handler.
        self._runner = web.AppRunner(
            app,
            handle_signals=False,
            access_log=None,
            handler_cancellation=True,
            shutdown_timeout=1.0,
        )
        await self._runner.setup()
        site = web.SockSite(self._runner, sock)
        await site.start()

    async def _shutdown(self) -> None:
        self._closing = True
        self._wake_pollers()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ------------------------------------------------------------------ state

    def _reset_state(self) -> None:
        """(Re)create all per-test state; callers hold the lock or own the object."""
        self._updates: list[dict[str, Any]] = []
        self._records: list[dict[str, Any]] = []
        self._fail_rules: list[_Rule] = []
        self._delay_rules: list[_Rule] = []
        self._commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._messages: dict[tuple[Any, int], dict[str, Any]] = {}
        self._files: dict[str, dict[str, Any]] = {}
        self._users: dict[int, dict[str, Any]] = {}
        self._callbacks: dict[str, dict[str, Any]] = {}
        self._answered: list[dict[str, Any]] = []
        self._allowed_updates: list[str] | None = None
        self._webhook_url = ""
        self._pending_push: dict[str, tuple[int, float]] = {}
        self._latencies: list[dict[str, Any]] = []
        self._pushed = 0

    def clear(self) -> None:
        """Forget queued updates, records, failure/delay rules and stored commands/messages."""
        with self._changed:
            self._reset_state()
            self._changed.notify_all()
        self._notify_pollers()

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

    # ------------------------------------------------------------------ simulated users

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
        """Queue an update (lock held), note its push time for latency, wake long polls."""
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, kind: payload})
        self._pending_push[str(chat_id)] = (update_id, time.monotonic())
        self._pushed += 1
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
            extra["entities"] = [
                {"type": "bot_command", "offset": 0, "length": _utf16_len(command)}
            ]
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
                buttons = itertools.chain.from_iterable(_inline_keyboard(msg.get("reply_markup")))
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
        self, user_id: int, caption: str | None = None, content: bytes = _FAKE_JPEG
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

    def _new_file(
        self, content: bytes | None, file_name: str | None, mime_type: str | None, folder: str
    ) -> str:
        with self._lock:
            number = next(self._file_ids)
            file_id = f"file-{number}"
            suffix = ""
            if file_name and "." in file_name:
                suffix = "." + file_name.rsplit(".", 1)[1]
            self._files[file_id] = {
                "file_id": file_id,
                "file_unique_id": f"u{file_id}",
                "file_path": f"{folder}/file_{number}{suffix}",
                "file_name": file_name,
                "mime_type": mime_type,
                "content": content,
            }
            return file_id

    # ------------------------------------------------------------------ inspection

    def calls(self, method: str | None = None) -> list[dict[str, Any]]:
        """Every recorded request (failed and unknown ones included), optionally by method."""
        with self._lock:
            return [
                dict(r)
                for r in self._records
                if method is None or r["method"].lower() == method.lower()
            ]

    def sent(
        self,
        chat_id: int | str | None = None,
        method: str | None = None,
        *,
        include_failed: bool = False,
    ) -> list[dict[str, Any]]:
        """Recorded sendMessage/sendDocument/sendPhoto/editMessageText calls, oldest first."""
        with self._lock:
            return self._sent_locked(chat_id, method, include_failed)

    def _sent_locked(
        self, chat_id: Any, method: str | None, include_failed: bool
    ) -> list[dict[str, Any]]:
        return [
            dict(r)
            for r in self._records
            if r["method"] in SENT_METHODS
            and (include_failed or r["ok"])
            and (method is None or r["method"].lower() == method.lower())
            and (chat_id is None or _same_chat(r["chat_id"], chat_id))
        ]

    def sent_texts(self, chat_id: int | str | None = None) -> list[str]:
        """Texts (or captions) the bot delivered successfully, for terse assertions."""
        return [r["text"] for r in self.sent(chat_id) if r["text"] is not None]

    def message(self, chat_id: int | str, message_id: int) -> dict[str, Any] | None:
        """Current state of a stored message (after edits), as a Bot API Message dict."""
        with self._lock:
            for (cid, mid), msg in self._messages.items():
                if mid == message_id and _same_chat(cid, chat_id):
                    return json.loads(json.dumps(msg))
        return None

    def commands(
        self, language_code: str | None = None, scope: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Commands set via setMyCommands for a language ('' / None = default) and scope."""
        key = (self._scope_key(scope), language_code or "")
        with self._lock:
            return [dict(c) for c in self._commands.get(key, [])]

    def all_commands(self) -> dict[tuple[str, str], list[dict[str, Any]]]:
        """All stored command lists keyed by (scope JSON, language_code)."""
        with self._lock:
            return {k: [dict(c) for c in v] for k, v in self._commands.items()}

    def answered_callbacks(self) -> list[dict[str, Any]]:
        """answerCallbackQuery params, each with the pressed ``data`` and ``user_id``."""
        with self._lock:
            return [dict(a) for a in self._answered]

    def pending_updates(self) -> list[dict[str, Any]]:
        """Queued updates not yet confirmed by an offset."""
        with self._lock:
            return [dict(u) for u in self._updates]

    def latencies(self) -> dict[str, Any]:
        """Per-reply latency entries plus a summary (see module docstring / control API)."""
        with self._lock:
            entries = [dict(e) for e in self._latencies]
            unanswered = len(self._pending_push)
            pushed = self._pushed
        values = sorted(e["latency"] for e in entries)
        summary: dict[str, Any] = {
            "pushed": pushed,
            "answered": len(values),
            "unanswered": unanswered,
            "mean": sum(values) / len(values) if values else None,
            "min": values[0] if values else None,
            "max": values[-1] if values else None,
        }
        for pct in (50, 90, 95, 99):
            summary[f"p{pct}"] = _percentile(values, pct)
        return {"latencies": entries, "summary": summary}

    def stats(self) -> dict[str, Any]:
        """Counters for a quick look from a benchmark or a failing test."""
        with self._lock:
            by_method: dict[str, int] = {}
            failed = 0
            for r in self._records:
                by_method[r["method"]] = by_method.get(r["method"], 0) + 1
                failed += not r["ok"]
            return {
                "updates_pushed": self._pushed,
                "updates_pending": len(self._updates),
                "calls_by_method": by_method,
                "calls_failed": failed,
                "sent": len(self._sent_locked(None, None, False)),
                "latencies": len(self._latencies),
                "long_polls_waiting": len(self._poll_waiters),
            }

    # ------------------------------------------------------------------ waiting

    def wait_for_sent(
        self,
        chat_id: int | str | None,
        count: int = 1,
        timeout: float = 10.0,
        *,
        method: str | None = None,
    ) -> list[dict[str, Any]]:
        """Block until ``count`` successful deliveries to chat_id exist; raise TimeoutError."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = self._sent_locked(chat_id, method, False)
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    texts = [r["text"] for r in found]
                    raise TimeoutError(
                        f"expected {count} sent message(s) to chat {chat_id!r} within "
                        f"{timeout}s, got {len(found)}: {texts!r}"
                    )
                self._changed.wait(remaining)

    async def await_sent(
        self,
        chat_id: int | str | None,
        count: int = 1,
        timeout: float = 10.0,  # noqa: ASYNC109 - same signature as wait_for_sent
        *,
        method: str | None = None,
    ) -> list[dict[str, Any]]:
        """Async wrapper around wait_for_sent that does not block the caller's loop."""
        return await asyncio.to_thread(self.wait_for_sent, chat_id, count, timeout, method=method)

    # ------------------------------------------------------------------ failure injection

    def fail_next(
        self,
        method: str,
        chat_id: int | str | None = None,
        *,
        code: int = 429,
        retry_after: int = 1,
        times: int | None = 1,
        description: str | None = None,
    ) -> None:
        """Make the next ``times`` calls (None = all) of method (to chat_id) fail with code."""
        canonical = self._canonical(method)
        if description is None:
            if code == 429:
                description = f"Too Many Requests: retry after {retry_after}"
            else:
                description = _ERROR_DESCRIPTIONS.get(code, f"Error {code}")
        body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if code == 429:
            body["parameters"] = {"retry_after": retry_after}
        with self._lock:
            self._fail_rules.append(_Rule(canonical, chat_id, times, body))

    def delay_next(
        self,
        method: str,
        seconds: float,
        chat_id: int | str | None = None,
        *,
        times: int | None = 1,
    ) -> None:
        """Answer the next ``times`` calls (None = all) of method only after ``seconds``."""
        with self._lock:
            self._delay_rules.append(_Rule(self._canonical(method), chat_id, times, seconds))

    @staticmethod
    def _take_rule(rules: list[_Rule], method: str, chat_id: Any) -> _Rule | None:
        for rule in rules:
            if rule.matches(method, chat_id):
                if rule.times is not None:
                    rule.times -= 1
                    if rule.times <= 0:
                        rules.remove(rule)
                return rule
        return None

    # ------------------------------------------------------------------ HTTP: Bot API

    def _canonical(self, method: str) -> str:
        entry = self._methods.get(method.lower())
        return entry[0] if entry else method

    def _method_table(self) -> dict[str, tuple[str, Any]]:
        ok_true = self._m_true
        handlers = {
            "getMe": self._m_get_me,
            "getUpdates": self._m_get_updates,
            "deleteWebhook": self._m_delete_webhook,
            "setWebhook": self._m_set_webhook,
            "getWebhookInfo": self._m_get_webhook_info,
            "close": ok_true,
            "logOut": ok_true,
            "sendMessage": self._m_send_message,
            "editMessageText": self._m_edit_message_text,
            "editMessageReplyMarkup": self._m_edit_reply_markup,
            "deleteMessage": self._m_delete_message,
            "answerCallbackQuery": self._m_answer_callback,
            "sendDocument": self._m_send_document,
            "sendPhoto": self._m_send_photo,
            "setMyCommands": self._m_set_commands,
            "getMyCommands": self._m_get_commands,
            "deleteMyCommands": self._m_delete_commands,
            "sendChatAction": ok_true,
            "setMyDescription": ok_true,
            "setMyShortDescription": ok_true,
            "setMyName": ok_true,
            "setChatMenuButton": ok_true,
            "getFile": self._m_get_file,
        }
        return {name.lower(): (name, handler) for name, handler in handlers.items()}

    async def _read_params(
        self, request: web.Request
    ) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
        """Parse query, JSON, urlencoded or multipart bodies into (params, uploaded files)."""
        params: dict[str, Any] = {k: _coerce(k, v) for k, v in request.query.items()}
        files: dict[str, dict[str, Any]] = {}
        if not request.can_read_body:
            return params, files
        ctype = request.content_type
        if ctype == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                params.update(body)
        elif ctype.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                if getattr(part, "name", None) is None:
                    continue
                if getattr(part, "filename", None) is not None:
                    files[part.name] = {
                        "filename": part.filename,
                        "content": bytes(await part.read(decode=True)),
                        "mime_type": part.headers.get("Content-Type"),
                    }
                else:
                    params[part.name] = _coerce(part.name, await part.text())
        else:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, str):
                    params[key] = _coerce(key, value)
        return params, files

    @staticmethod
    def _json(body: dict[str, Any], status: int = 200) -> web.Response:
        return web.Response(
            body=json.dumps(body, ensure_ascii=False).encode(),
            status=status,
            content_type="application/json",
        )

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        arrived, ts = time.monotonic(), time.time()
        name = request.match_info["method"]
        params, files = await self._read_params(request)
        entry = self._methods.get(name.lower())
        method = entry[0] if entry else name
        chat_id = params.get("chat_id")
        record: dict[str, Any] = {
            "method": method,
            "params": params,
            "chat_id": chat_id,
            "text": params.get("text", params.get("caption")),
            "buttons": _inline_keyboard(params.get("reply_markup")),
            "time": arrived,
            "ts": ts,
            "ok": True,
            "error_code": None,
            "description": None,
            "result": None,
        }
        with self._lock:
            delay = self._take_rule(self._delay_rules, method, chat_id)
        if delay is not None:
            await asyncio.sleep(delay.payload)

        if entry is None:
            body: dict[str, Any] = {
                "ok": False,
                "error_code": 404,
                "description": "Not Found: method not found",
            }
            record.update(ok=False, error_code=404, description=body["description"], unknown=True)
            self._add_record(record)
            return self._json(body, 404)

        with self._lock:
            failure = self._take_rule(self._fail_rules, method, chat_id)
        if failure is not None:
            body = failure.payload
            record.update(ok=False, error_code=body["error_code"], description=body["description"])
            self._add_record(record)
            return self._json(body, body["error_code"])

        try:
            result = await entry[1](params, files, record)
        except _ApiError as err:
            record.update(ok=False, error_code=err.code, description=err.description)
            self._add_record(record)
            return self._json(
                {"ok": False, "error_code": err.code, "description": err.description}, err.code
            )
        except asyncio.CancelledError:
            # The client hung up (typically PTB cancelling a long poll on updater.stop()).
            record.update(ok=False, description="client disconnected")
            self._add_record(record)
            raise
        record["result"] = result
        self._add_record(record)
        return self._json({"ok": True, "result": result})

    def _add_record(self, record: dict[str, Any]) -> None:
        with self._changed:
            self._records.append(record)
            if record["ok"] and record["method"] in SENT_METHODS:
                self._note_reply(record)
            self._changed.notify_all()

    def _note_reply(self, record: dict[str, Any]) -> None:
        """Latency = reply arrival minus the latest unanswered push for that chat (lock held)."""
        pending = self._pending_push.pop(str(record["chat_id"]), None)
        if pending is None:
            return
        update_id, pushed_at = pending
        self._latencies.append(
            {
                "chat_id": record["chat_id"],
                "update_id": update_id,
                "method": record["method"],
                "pushed_at": pushed_at,
                "replied_at": record["time"],
                "latency": record["time"] - pushed_at,
            }
        )

    async def _m_true(self, params: dict[str, Any], files: Any, record: Any) -> bool:
        return True

    async def _m_get_me(self, params: dict[str, Any], files: Any, record: Any) -> dict[str, Any]:
        return dict(BOT_USER)

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
                raise _ApiError(
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
            wanted = kind in allowed if allowed else kind not in _NOT_DEFAULT_UPDATES
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

    def _bot_message(self, params: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
        """Build and store a Message the bot sent (lock held)."""
        chat_id = params.get("chat_id")
        if chat_id is None:
            raise _ApiError(400, "Bad Request: chat_id is empty")
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
        if _inline_keyboard(markup):
            message["reply_markup"] = markup
        self._messages[(chat["id"], message["message_id"])] = message
        return message

    async def _m_send_message(
        self, params: dict[str, Any], files: Any, record: dict[str, Any]
    ) -> dict[str, Any]:
        text = params.get("text")
        if not isinstance(text, str) or not text:
            raise _ApiError(400, "Bad Request: message text is empty")
        with self._lock:
            message = self._bot_message(params, {"text": text})
        record["message_id"] = message["message_id"]
        return message

    def _locate(self, params: dict[str, Any]) -> dict[str, Any]:
        message_id = params.get("message_id")
        for (cid, mid), msg in self._messages.items():
            if mid == message_id and _same_chat(cid, params.get("chat_id")):
                return msg
        raise _ApiError(400, "Bad Request: message to edit not found")

    async def _m_edit_message_text(
        self, params: dict[str, Any], files: Any, record: dict[str, Any]
    ) -> dict[str, Any] | bool:
        text = params.get("text")
        if not isinstance(text, str) or not text:
            raise _ApiError(400, "Bad Request: message text is empty")
        if params.get("inline_message_id"):
            return True
        markup = params.get("reply_markup")
        with self._lock:
            message = self._locate(params)
            new_markup = markup if _inline_keyboard(markup) else None
            if message.get("text") == text and message.get("reply_markup") == new_markup:
                raise _ApiError(
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
            new_markup = markup if _inline_keyboard(markup) else None
            if message.get("reply_markup") == new_markup:
                raise _ApiError(
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
            except _ApiError as err:
                raise _ApiError(400, "Bad Request: message to delete not found") from err
            self._messages.pop((message["chat"]["id"], message["message_id"]), None)
        return True

    async def _m_answer_callback(self, params: dict[str, Any], files: Any, record: Any) -> bool:
        with self._lock:
            query = self._callbacks.get(str(params.get("callback_query_id")), {})
            self._answered.append(
                {**params, "data": query.get("data"), "user_id": query.get("user_id")}
            )
        return True

    def _upload(
        self,
        field: str,
        params: dict[str, Any],
        files: dict[str, dict[str, Any]],
        record: dict[str, Any],
        folder: str,
    ) -> dict[str, Any]:
        """Resolve an uploaded, attach:// or file_id/URL input; store it for getFile."""
        value = params.get(field)
        upload = None
        if isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value.removeprefix("attach://"))
        elif field in files:
            upload = files[field]
        if upload is not None:
            info = dict(upload)
        elif isinstance(value, str) and value in self._files:
            known = self._files[value]
            info = {
                "filename": known["file_name"],
                "content": known["content"],
                "mime_type": known["mime_type"],
            }
        elif isinstance(value, str) and value:
            info = {"filename": value.rsplit("/", 1)[-1], "content": None, "mime_type": None}
        else:
            raise _ApiError(400, f"Bad Request: there is no {field} in the request")
        record.update(
            filename=info["filename"], content=info["content"], mime_type=info["mime_type"]
        )
        file_id = self._new_file(info["content"], info["filename"], info["mime_type"], folder)
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": len(info["content"] or b""),
            "file_name": info["filename"],
            "mime_type": info["mime_type"],
        }

    def _caption(self, params: dict[str, Any]) -> dict[str, Any]:
        caption = params.get("caption")
        return {"caption": caption} if isinstance(caption, str) and caption else {}

    async def _m_send_document(
        self, params: dict[str, Any], files: dict[str, dict[str, Any]], record: dict[str, Any]
    ) -> dict[str, Any]:
        with self._lock:
            meta = self._upload("document", params, files, record, "documents")
            document = {k: v for k, v in meta.items() if v is not None}
            message = self._bot_message(params, {"document": document, **self._caption(params)})
        record["message_id"] = message["message_id"]
        return message

    async def _m_send_photo(
        self, params: dict[str, Any], files: dict[str, dict[str, Any]], record: dict[str, Any]
    ) -> dict[str, Any]:
        with self._lock:
            meta = self._upload("photo", params, files, record, "photos")
            photo = [
                {
                    "file_id": meta["file_id"],
                    "file_unique_id": meta["file_unique_id"],
                    "width": 800,
                    "height": 600,
                    "file_size": meta["file_size"],
                }
            ]
            message = self._bot_message(params, {"photo": photo, **self._caption(params)})
        record["message_id"] = message["message_id"]
        return message

    @staticmethod
    def _scope_key(scope: Any) -> str:
        if not isinstance(scope, dict):
            scope = {"type": "default"}
        return json.dumps(scope, sort_keys=True)

    async def _m_set_commands(self, params: dict[str, Any], files: Any, record: Any) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _ApiError(400, "Bad Request: can't parse commands JSON object")
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

    async def _m_get_file(self, params: dict[str, Any], files: Any, record: Any) -> dict[str, Any]:
        with self._lock:
            known = self._files.get(str(params.get("file_id")))
            if known is None:
                raise _ApiError(400, "Bad Request: invalid file_id")
            return {
                "file_id": known["file_id"],
                "file_unique_id": known["file_unique_id"],
                "file_size": len(known["content"] or b""),
                "file_path": known["file_path"],
            }

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["path"]
        with self._lock:
            known = next((f for f in self._files.values() if f["file_path"] == path), None)
        if known is None or known["content"] is None:
            return self._json({"ok": False, "error_code": 404, "description": "Not Found"}, 404)
        return web.Response(
            body=known["content"], content_type=known["mime_type"] or "application/octet-stream"
        )

    # ------------------------------------------------------------------ HTTP: control API

    async def _handle_control(self, request: web.Request) -> web.StreamResponse:
        """JSON control API so a benchmark in another process can drive the fake."""
        action = request.match_info["action"]
        body: dict[str, Any] = dict(request.query)
        if request.can_read_body and request.content_type == "application/json":
            posted = await request.json()
            if isinstance(posted, dict):
                body.update(posted)
        try:
            result = await self._control(action, body)
        except KeyError as err:
            return self._json({"ok": False, "description": f"missing field {err}"}, 400)
        except (TypeError, ValueError) as err:
            return self._json({"ok": False, "description": str(err)}, 400)
        except TimeoutError as err:
            return self._json({"ok": False, "description": str(err)}, 408)
        if result is None:
            return self._json({"ok": False, "description": f"unknown action {action}"}, 404)
        return self._json({"ok": True, **result})

    async def _control(self, action: str, body: dict[str, Any]) -> dict[str, Any] | None:
        if action == "push_message":
            return {"update_id": self._control_push(body)}
        if action == "push_messages":
            return {"update_ids": [self._control_push(m) for m in body["messages"]]}
        if action == "push_callback":
            message_id = body.get("message_id")
            update_id = self.push_callback(
                int(body["user_id"]),
                str(body["data"]),
                int(message_id) if message_id is not None else None,
            )
            return {"update_id": update_id}
        if action == "sent":
            chat_id = body.get("chat_id")
            include_failed = str(body.get("include_failed", "")).lower() in ("1", "true")
            records = self.sent(chat_id, body.get("method"), include_failed=include_failed)
            return {"sent": [_jsonable(r) for r in records]}
        if action == "wait_sent":
            records = await asyncio.to_thread(
                self.wait_for_sent,
                body.get("chat_id"),
                int(body.get("count", 1)),
                float(body.get("timeout", 10)),
            )
            return {"sent": [_jsonable(r) for r in records]}
        if action == "clear":
            self.clear()
            return {}
        if action == "fail_next":
            times = body.get("times", 1)
            self.fail_next(
                str(body["method"]),
                body.get("chat_id"),
                code=int(body.get("code", 429)),
                retry_after=int(body.get("retry_after", 1)),
                times=None if times is None else int(times),
                description=body.get("description"),
            )
            return {}
        if action == "delay_next":
            times = body.get("times", 1)
            self.delay_next(
                str(body["method"]),
                float(body["seconds"]),
                body.get("chat_id"),
                times=None if times is None else int(times),
            )
            return {}
        if action == "stats":
            return {"stats": self.stats()}
        if action == "latencies":
            return self.latencies()
        if action == "commands":
            return {"commands": self.commands(body.get("language_code"))}
        return None

    def _control_push(self, body: dict[str, Any]) -> int:
        return self.push_message(
            int(body["user_id"]),
            str(body["text"]),
            first_name=str(body.get("first_name", "Anna")),
            language_code=body.get("language_code", "pl"),
            username=body.get("username"),
        )


class _ApiError(Exception):
    """A Bot API error answer (ok=false) raised by a method handler."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


def _jsonable(record: dict[str, Any]) -> dict[str, Any]:
    """Records carry upload bytes; the control API sends them base64-encoded."""
    out = dict(record)
    content = out.pop("content", None)
    if content is not None:
        out["content_b64"] = base64.b64encode(content).decode()
    return out


def main(argv: Iterable[str] | None = None) -> None:
    """Run the fake as a process until SIGINT/SIGTERM; prints a ready line with the URLs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args(list(argv) if argv is not None else None)
    logging.basicConfig(level=logging.WARNING)

    stop = threading.Event()

    def _on_signal(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    server = FakeTelegramServer(args.host, args.port).start()
    print(
        f"FAKE_TELEGRAM_READY port={server.port} base_url={server.base_url} "
        f"base_file_url={server.base_file_url} control_url={server.control_url}",
        flush=True,
    )
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
