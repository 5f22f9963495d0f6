"""Starting the panel: inside the bot's process (`lokalnie run`) or alone (`lokalnie panel`)."""

from __future__ import annotations

import logging

from bot import redact
from bot.config import Settings
from handlers.core.services import Services
from panel import links
from panel.app import Panel, PanelServer
from panel.config import PanelConfig, load_config
from storage import panel as panel_store
from storage.db import Store

log = logging.getLogger(__name__)


async def configure(store: Store, services: Services, settings: Settings) -> PanelConfig | None:
    """The panel's configuration, and `/panel` able to hand out links; None: no panel."""
    base_url = settings.panel_base_url
    if base_url is None:
        return None
    secret = settings.panel_secret.get_secret_value() if settings.panel_secret else None
    config = await load_config(store, base_url=base_url, secret=secret)
    redact.remember([config.key])
    hand_out_links(services, config)
    # Someone taken off COORDINATOR_IDS while the bot was down is signed out now.
    async with store.transaction() as session:
        await panel_store.end_sessions_except(session, services.coordinator_ids)
    return config


def hand_out_links(services: Services, config: PanelConfig) -> None:
    """Let `/panel` give coordinators links signed with this configuration's key."""

    def make_link(coordinator_id: int) -> str:
        return links.make_link(config.base_url, config.key, coordinator_id, services.clock())

    services.panel_link = make_link


async def start(store: Store, services: Services, settings: Settings) -> PanelServer | None:
    """Serve the panel on PANEL_HOST:PANEL_PORT when PANEL_PORT is set."""
    config = await configure(store, services, settings)
    if config is None or settings.panel_port is None:
        return None
    server = PanelServer(Panel(store=store, services=services, config=config))
    server.listen(host=settings.panel_host, port=settings.panel_port)
    log.info("panel listening on %s:%d", settings.panel_host, settings.panel_port)
    return server
