"""Fake Telegram Bot API server on loopback for offline tests.

The real python-telegram-bot ``Bot``/``Application`` talks to it over HTTP, so tests exercise
PTB's request encoding, error mapping and polling loop exactly as in production. Point PTB at it
with ``Application.builder().token(T).base_url(server.base_url)
.base_file_url(server.base_file_url)``; PTB then requests ``{base_url}{token}/{method}``.

The server runs in its own thread with its own event loop, so one instance can serve a whole
pytest session although every test gets a fresh event loop. All public methods are thread-safe.

This module is the HTTP server and its dispatch; the parts it is made of:
``bot_api_updates`` (simulated users, getUpdates), ``bot_api_messages`` (what the bot sends),
``bot_api_files`` (uploads, getFile, downloads), ``bot_api_records`` (what tests ask of it,
injected failures) and ``bot_api_common``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import socket
import threading
import time
from typing import Any

from aiohttp import web

from tests.fakes.bot_api_common import (
    BOT_USER,
    SENT_METHODS,
    ApiError,
    Rule,
    coerce,
    inline_keyboard,
)
from tests.fakes.bot_api_files import Files
from tests.fakes.bot_api_messages import Messages
from tests.fakes.bot_api_records import Records
from tests.fakes.bot_api_updates import UpdateQueue

__all__ = ["BOT_USER", "SENT_METHODS", "FakeTelegramServer"]


class FakeTelegramServer(UpdateQueue, Messages, Files, Records):
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

    def _reset_state(self) -> None:
        """(Re)create all per-test state; callers hold the lock or own the object."""
        self._updates: list[dict[str, Any]] = []
        self._records: list[dict[str, Any]] = []
        self._fail_rules: list[Rule] = []
        self._delay_rules: list[Rule] = []
        self._commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._messages: dict[tuple[Any, int], dict[str, Any]] = {}
        self._files: dict[str, dict[str, Any]] = {}
        self._users: dict[int, dict[str, Any]] = {}
        self._callbacks: dict[str, dict[str, Any]] = {}
        self._answered: list[dict[str, Any]] = []
        self._allowed_updates: list[str] | None = None
        self._webhook_url = ""

    def clear(self) -> None:
        """Forget queued updates, records, failure/delay rules and stored commands/messages."""
        with self._changed:
            self._reset_state()
            self._changed.notify_all()
        self._notify_pollers()

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
            "sendMediaGroup": self._m_send_media_group,
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
        params: dict[str, Any] = {k: coerce(k, v) for k, v in request.query.items()}
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
                    params[part.name] = coerce(part.name, await part.text())
        else:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, str):
                    params[key] = coerce(key, value)
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
            "buttons": inline_keyboard(params.get("reply_markup")),
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
        except ApiError as err:
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
