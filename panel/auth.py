"""Signing in with a one-time link, the session cookie, and who is signed in.

A link (`panel.links`) opens a session: a random token in an HttpOnly,
SameSite=Strict cookie (Secure behind HTTPS), of which the store keeps only
a hash. Every request looks the session up and checks, at that moment, that
its coordinator is still in COORDINATOR_IDS (else the session ends) and that it
was used within the idle timeout (else it ends too).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from panel import links
from storage import panel as panel_store

if TYPE_CHECKING:
    from panel.app import Panel

COOKIE = "lokalnie_panel"


@dataclass(frozen=True)
class SignedIn:
    coordinator_id: int
    session_id: int


@dataclass(frozen=True)
class Refused:
    """Why a link or a session does not open the panel: a catalogue key."""

    key: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def cookie_options(panel: Panel) -> dict[str, object]:
    return {"httponly": True, "samesite": "Strict", "secure": panel.config.secure, "path": "/"}


async def sign_in(panel: Panel, token: str) -> tuple[SignedIn, str] | Refused:
    """Use a link: the new session and its cookie value, or why not."""
    try:
        claim = links.read_token(panel.config.key, token)
    except links.BadLink:
        return Refused("panel.link_invalid")
    now = panel.services.clock()
    if claim.expires <= now:
        return Refused("panel.link_expired")
    if not panel.services.is_coordinator(claim.coordinator_id):
        return Refused("panel.link_not_coordinator")
    value = secrets.token_urlsafe(32)
    async with panel.store.transaction() as session:
        if not await panel_store.use_link(
            session, nonce=claim.nonce, coordinator_id=claim.coordinator_id
        ):
            return Refused("panel.link_used")
        row = await panel_store.open_session(
            session, token_hash=_hash(value), coordinator_id=claim.coordinator_id, now=now
        )
        await panel_store.audit(session, coordinator_id=claim.coordinator_id, action="sign_in")
        signed = SignedIn(claim.coordinator_id, row.id)
    return signed, value


async def current(panel: Panel, cookie: str | None) -> SignedIn | Refused:
    """The coordinator signed in with this cookie, or why nobody is."""
    if not cookie:
        return Refused("panel.sign_in_first")
    async with panel.store.transaction() as session:
        row = await panel_store.find_session(session, _hash(cookie))
        if row is None:
            return Refused("panel.sign_in_first")
        if not panel.services.is_coordinator(row.coordinator_id):
            panel_store.end(row)
            return Refused("panel.no_longer_coordinator")
        now = panel.services.clock()
        if now - row.last_seen_at > panel.config.idle_timeout:
            panel_store.end(row)
            return Refused("panel.session_expired")
        panel_store.touch(row, now)
        return SignedIn(row.coordinator_id, row.id)


async def sign_out(panel: Panel, cookie: str | None) -> None:
    if not cookie:
        return
    async with panel.store.transaction() as session:
        row = await panel_store.find_session(session, _hash(cookie))
        if row is not None:
            panel_store.end(row)
            await panel_store.audit(session, coordinator_id=row.coordinator_id, action="sign_out")
