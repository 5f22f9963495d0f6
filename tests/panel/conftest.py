"""The panel served for real on loopback, over a migrated store, with a sample contest."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest

from bot.app import Service
from panel import links
from panel.app import Panel, PanelServer
from panel.config import load_config
from panel.serve import hand_out_links
from tests.conftest import COORDINATOR_ID, make_settings
from tests.handlers.contest_fixture import sample_contest

XSRF = re.compile(r'name="_xsrf" value="([^"]+)"')


@dataclass
class Site:
    service: Service
    panel: Panel
    base_url: str

    def link(self, coordinator_id: int = COORDINATOR_ID) -> str:
        now = self.service.services.clock()
        return links.make_link(self.base_url, self.panel.config.key, coordinator_id, now)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base_url, follow_redirects=False, timeout=10)


def token_of(link: str) -> str:
    return httpx.URL(link).params["token"]


def form_token(page: str) -> str:
    found = XSRF.search(page)
    assert found, "the page has no CSRF field"
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, link: str) -> httpx.Response:
    """Open the link, then press its button, as a browser would."""
    opened = await client.get(link)
    return await client.post(
        "/signin", data={"token": token_of(link), "_xsrf": form_token(opened.text)}
    )


@pytest.fixture
async def site(database_url: str, tmp_path: Path) -> AsyncIterator[Site]:
    service = Service(make_settings(database_url, tmp_path))
    await service.prepare()
    service.services.contest = sample_contest()
    config = await load_config(service.store, base_url="", secret=None)
    panel = Panel(store=service.store, services=service.services, config=config)
    server = PanelServer(panel)
    port = server.listen(host="127.0.0.1", port=0)
    base_url = f"http://127.0.0.1:{port}"
    panel.config = replace(config, base_url=base_url)
    hand_out_links(service.services, panel.config)
    try:
        yield Site(service, panel, base_url)
    finally:
        await server.stop()
        await service.close()
