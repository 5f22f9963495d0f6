"""Harnesses shared by the split contest test modules (a module's own fixture of the
same name overrides these)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import Service
from handlers.core.services import Channels
from tests.conftest import COORDINATOR_ID, make_settings
from tests.handlers.contest import returned_helpers, review_helpers
from tests.handlers.contest_fixture import sample_contest
from tests.harness import ChatHarness


@pytest.fixture
def review_harness(harness: ChatHarness) -> ChatHarness:
    """The coordinators' side: two coordinators, the clock at review_helpers.NOW."""
    services = harness.service.services
    services.contest = sample_contest()
    services.clock = lambda: review_helpers.NOW
    services.coordinator_ids = frozenset({COORDINATOR_ID, review_helpers.SECOND_COORDINATOR})
    services.channels = Channels(telegram=True, email_out=True)
    return harness


@pytest.fixture
async def contest_harness(database_url: str, tmp_path: Path) -> AsyncIterator[ChatHarness]:
    """Proposals after submitting, the clock at returned_helpers.NOW. On SQLite and on
    PostgreSQL: snapshots are JSON columns read back by both."""
    service = Service(make_settings(database_url, tmp_path))
    services = service.services
    services.contest = sample_contest()
    services.clock = lambda: returned_helpers.NOW
    services.channels = Channels(telegram=True, email_out=True)
    try:
        yield ChatHarness(service)
    finally:
        await service.close()
