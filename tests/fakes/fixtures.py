"""Pytest plugin with the fake Telegram Bot API server fixtures.

Load it with ``pytest_plugins = ["tests.fakes.fixtures"]`` (or ``-p tests.fakes.fixtures``).
The server starts once per session in its own thread, so it outlives each test's event loop.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.telegram_api import FakeTelegramServer


@pytest.fixture(scope="session")
def telegram_server() -> Iterator[FakeTelegramServer]:
    """One fake Bot API server for the whole session; stopped (thread joined) at the end."""
    server = FakeTelegramServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fake_telegram(telegram_server: FakeTelegramServer) -> FakeTelegramServer:
    """The session server with a clean slate: no updates, records or failure rules."""
    telegram_server.clear()
    return telegram_server
