"""What the panel needs to run, taken from the settings and the store once at start."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from storage import panel as panel_store
from storage.db import Store

IDLE_TIMEOUT = timedelta(minutes=30)


@dataclass(frozen=True)
class PanelConfig:
    # The public base address used in links (PANEL_URL), e.g. https://panel.example.pl.
    base_url: str
    # The key links are signed with: PANEL_SECRET, else one kept in the store.
    key: str
    idle_timeout: timedelta = IDLE_TIMEOUT

    @property
    def secure(self) -> bool:
        """Cookies only over HTTPS when the public address is HTTPS."""
        return self.base_url.lower().startswith("https://")


async def load_config(store: Store, *, base_url: str, secret: str | None) -> PanelConfig:
    """The configuration; the signing key is made and stored on first need."""
    if not secret:
        async with store.transaction() as session:
            secret = await panel_store.signing_key(session)
    return PanelConfig(base_url=base_url, key=secret)
