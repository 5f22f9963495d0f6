from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import Service
from handlers.core.forms import Survey
from handlers.core.i18n import Translator
from storage.surveys import StoredResponse
from tests.conftest import CONTENT, make_settings
from tests.handlers.surveys.answered_survey import build_survey, fill
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


@pytest.fixture
def translator() -> Translator:
    return Translator(CONTENT / "locales")


@pytest.fixture
async def answered(sqlite_url: str) -> tuple[Survey, list[StoredResponse]]:
    """`answered_survey`'s survey and its four residents' answers, in SQLite."""
    survey = build_survey()
    return survey, await fill(sqlite_url, survey)
