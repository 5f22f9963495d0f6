from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.app import Service
from bot.config import Settings
from tests.harness import ChatHarness


@pytest.fixture
async def harness(settings: Settings) -> AsyncIterator[ChatHarness]:
    service = Service(settings)
    try:
        yield ChatHarness(service)
    finally:
        await service.close()
