"""The fake Bot API's memory of what the bot did, the queries tests make of it, and
injected failures and delays."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

from tests.fakes.bot_api_common import (
    ERROR_DESCRIPTIONS,
    SENT_METHODS,
    Rule,
    same_chat,
)


class Records:
    """Every call the bot made, for a test's assertions."""

    # State shared by the parts, created by FakeTelegramServer._reset_state.
    _lock: threading.RLock
    _changed: threading.Condition
    _records: list[dict[str, Any]]
    _fail_rules: list[Rule]
    _delay_rules: list[Rule]
    _commands: dict[tuple[str, str], list[dict[str, Any]]]
    _messages: dict[tuple[Any, int], dict[str, Any]]
    _answered: list[dict[str, Any]]

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
        """Recorded sendMessage/sendDocument/sendPhoto/sendMediaGroup/editMessageText calls,
        oldest first (an album is one record, its files in `album`)."""
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
            and (chat_id is None or same_chat(r["chat_id"], chat_id))
        ]

    def sent_texts(self, chat_id: int | str | None = None) -> list[str]:
        """Texts (or captions) the bot delivered successfully, for terse assertions."""
        return [r["text"] for r in self.sent(chat_id) if r["text"] is not None]

    def message(self, chat_id: int | str, message_id: int) -> dict[str, Any] | None:
        """Current state of a stored message (after edits), as a Bot API Message dict."""
        with self._lock:
            for (cid, mid), msg in self._messages.items():
                if mid == message_id and same_chat(cid, chat_id):
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

    def fail_next(
        self,
        method: str,
        chat_id: int | str | None = None,
        *,
        code: int = 429,
        retry_after: int = 1,
        times: int | None = 1,
        description: str | None = None,
        after: int = 0,
    ) -> None:
        """Make the next ``times`` calls (None = all) of method (to chat_id) fail with code,
        once ``after`` such calls have gone through."""
        canonical = self._canonical(method)
        if description is None:
            if code == 429:
                description = f"Too Many Requests: retry after {retry_after}"
            else:
                description = ERROR_DESCRIPTIONS.get(code, f"Error {code}")
        body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if code == 429:
            body["parameters"] = {"retry_after": retry_after}
        with self._lock:
            self._fail_rules.append(Rule(canonical, chat_id, times, body, after=after))

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
            self._delay_rules.append(Rule(self._canonical(method), chat_id, times, seconds))

    @staticmethod
    def _take_rule(rules: list[Rule], method: str, chat_id: Any) -> Rule | None:
        for rule in rules:
            if rule.matches(method, chat_id):
                if rule.after > 0:
                    rule.after -= 1
                    continue
                if rule.times is not None:
                    rule.times -= 1
                    if rule.times <= 0:
                        rules.remove(rule)
                return rule
        return None

    def _add_record(self, record: dict[str, Any]) -> None:
        with self._changed:
            self._records.append(record)
            self._changed.notify_all()

    @staticmethod
    def _scope_key(scope: Any) -> str:
        if not isinstance(scope, dict):
            scope = {"type": "default"}
        return json.dumps(scope, sort_keys=True)
