"""One-time sign-in links: signed (HMAC-SHA256), valid 10 minutes, used once.

A link carries the coordinator's id, when it stops working and a random nonce,
signed with the panel's key. It holds no secret of its own: what makes it
single-use is the nonce recorded in the store when it is used
(`storage.panel.use_link`). The link is never logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

VALID = timedelta(minutes=10)
SIGN_IN_PATH = "/signin"


@dataclass(frozen=True)
class LinkClaim:
    coordinator_id: int
    expires: datetime
    nonce: str


class BadLink(Exception):
    """A link that was tampered with, cut short or signed with another key."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(key: str, body: str) -> str:
    return _b64(hmac.new(key.encode(), b"link:" + body.encode(), hashlib.sha256).digest())


def make_token(key: str, coordinator_id: int, now: datetime) -> str:
    expires = int((now + VALID).timestamp())
    body = _b64(json.dumps([coordinator_id, expires, secrets.token_hex(16)]).encode())
    return f"{body}.{_signature(key, body)}"


def read_token(key: str, token: str) -> LinkClaim:
    """The claim of a well-signed token (its expiry and use are the caller's to check)."""
    body, _, signature = token.partition(".")
    if not body or not hmac.compare_digest(signature, _signature(key, body)):
        raise BadLink("signature")
    try:
        coordinator_id, expires, nonce = json.loads(_unb64(body))

        return LinkClaim(int(coordinator_id), datetime.fromtimestamp(int(expires), UTC), str(nonce))
    except (ValueError, TypeError) as error:
        raise BadLink("body") from error


def make_link(base_url: str, key: str, coordinator_id: int, now: datetime) -> str:
    token = make_token(key, coordinator_id, now)
    return base_url.rstrip("/") + SIGN_IN_PATH + "?" + urlencode({"token": token})
