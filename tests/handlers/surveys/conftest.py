from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import Service
from tests.conftest import make_settings
from tests.harness import ChatHarness

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def store_harness(database_url: str, tmp_path: Path) -> AsyncIterator[ChatHarness]:
    """The terminal harness on each store (SQLite, PostgreSQL), its clock at NOW."""
    service = Service(make_settings(database_url, tmp_path))
    service.services.clock = lambda: NOW
    try:
        yield ChatHarness(service)
    finally:
        await service.close()
