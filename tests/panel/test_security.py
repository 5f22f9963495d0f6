"""Who gets into the panel, over real HTTP on loopback: each way in that must be refused is.

No browser: the panel's own server, an HTTP client, and the store on SQLite and
PostgreSQL. A refusal is checked by its status and by the text the person reads.
"""

from __future__ import annotations

import html
import logging
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from panel import auth, links
from panel.config import PanelConfig
from storage import proposals
from storage.models import PanelAudit, PanelSession
from storage.types import utcnow
from tests.conftest import COORDINATOR_ID
from tests.handlers.review_fixture import submit_in
from tests.panel.conftest import Site, form_token, sign_in, token_of

RESIDENT = 5001


def says(site: Site, response_text: str, key: str) -> bool:
    text = site.service.services.translator.text("pl", key)
    return text in html.unescape(response_text)


async def test_without_a_session_every_page_is_refused(site: Site) -> None:
    async with site.client() as client:
        for path in ("/", "/proposals", "/proposals/1", "/audit", "/proposals/1/files/1"):
            response = await client.get(path)
            assert response.status_code == 401, path
            assert says(site, response.text, "panel.sign_in_first")


async def test_a_link_signs_in_once_and_opens_the_dashboard(site: Site) -> None:
    link = site.link()
    async with site.client() as client:
        signed = await sign_in(client, link)
        assert signed.status_code == 303 and signed.headers["location"] == "/"
        dashboard = await client.get("/")
        assert dashboard.status_code == 200
        assert says(site, dashboard.text, "panel.dash.proposals")
    async with site.client() as other:
        again = await sign_in(other, link)
        assert again.status_code == 403
        assert says(site, again.text, "panel.link_used")
        assert auth.COOKIE not in again.cookies
        assert (await other.get("/")).status_code == 401


async def test_a_residents_link_is_refused(site: Site) -> None:
    async with site.client() as client:
        response = await sign_in(client, site.link(RESIDENT))
        assert response.status_code == 403
        assert says(site, response.text, "panel.link_not_coordinator")
        assert (await client.get("/")).status_code == 401


async def test_an_expired_link_is_refused(site: Site) -> None:
    old = utcnow() - links.VALID - timedelta(seconds=1)
    link = links.make_link(site.base_url, site.panel.config.key, COORDINATOR_ID, old)
    async with site.client() as client:
        response = await sign_in(client, link)
        assert response.status_code == 403
        assert says(site, response.text, "panel.link_expired")


async def test_a_link_signed_with_another_key_or_altered_is_refused(site: Site) -> None:
    forged = links.make_link(site.base_url, "another key", COORDINATOR_ID, utcnow())
    real = token_of(site.link())
    body, signature = real.split(".")
    altered = site.base_url + "/signin?token=" + body[:-2] + "AA." + signature
    async with site.client() as client:
        for link in (forged, altered):
            response = await sign_in(client, link)
            assert response.status_code == 403
            assert says(site, response.text, "panel.link_invalid")


async def test_a_post_without_the_csrf_token_is_refused(site: Site) -> None:
    made = await submit_in(
        site.service.store, site.service.services.contest, title="Kino", amounts=["5000"]
    )
    async with site.client() as client:
        # Signing in is a form too.
        opened = await client.get(site.link())
        refused = await client.post("/signin", data={"token": token_of(str(opened.url))})
        assert refused.status_code == 403
        assert (await client.get("/")).status_code == 401
        await sign_in(client, site.link())
        change = {"status": proposals.REJECTED, "note": "", "action": "send"}
        response = await client.post(f"/proposals/{made.id}/status", data=change)
        assert response.status_code == 403
        assert says(site, response.text, "panel.forbidden")
        page = await client.get(f"/proposals/{made.id}")
        wrong = await client.post(
            f"/proposals/{made.id}/status", data={**change, "_xsrf": "2|00|00|00"}
        )
        assert wrong.status_code == 403
        assert form_token(page.text)
    async with site.service.store.transaction() as session:
        stored = await proposals.get(session, made.id)
    assert stored is not None and stored.status == proposals.SUBMITTED


async def test_a_coordinator_taken_off_the_list_is_signed_out(site: Site) -> None:
    services = site.service.services
    async with site.client() as client:
        await sign_in(client, site.link())
        assert (await client.get("/")).status_code == 200
        services.coordinator_ids = frozenset()
        response = await client.get("/")
        assert response.status_code == 401
        assert says(site, response.text, "panel.no_longer_coordinator")
        # Put back on the list, the ended session stays ended.
        services.coordinator_ids = frozenset({COORDINATOR_ID})
        assert (await client.get("/")).status_code == 401
    async with site.service.store.transaction() as session:
        [row] = await session.scalars(select(PanelSession))
    assert row.ended_at is not None


async def test_an_idle_session_ends(site: Site) -> None:
    async with site.client() as client:
        await sign_in(client, site.link())
        idle = utcnow() - site.panel.config.idle_timeout - timedelta(minutes=1)
        async with site.service.store.transaction() as session:
            await session.execute(update(PanelSession).values(last_seen_at=idle))
        response = await client.get("/proposals")
        assert response.status_code == 401
        assert says(site, response.text, "panel.session_expired")


async def test_the_session_cookie_is_httponly_strict_and_secure_behind_https(site: Site) -> None:
    async with site.client() as client:
        response = await sign_in(client, site.link())
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(auth.COOKIE + "=")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Secure" not in cookie  # plain http on loopback
    assert PanelConfig(base_url="https://panel.example.pl", key="k").secure
    assert not PanelConfig(base_url="http://127.0.0.1:8080", key="k").secure


async def test_signing_in_and_out_is_in_the_audit_log(site: Site) -> None:
    async with site.client() as client:
        await sign_in(client, site.link())
        page = await client.get("/audit")
        assert says(site, page.text, "panel.audit.sign_in")
        out = await client.post("/signout", data={"_xsrf": form_token(page.text)})
        assert out.status_code == 200
        assert (await client.get("/")).status_code == 401
    async with site.service.store.transaction() as session:
        actions = [(a.coordinator_id, a.action) for a in await session.scalars(select(PanelAudit))]
    assert actions == [(COORDINATOR_ID, "sign_in"), (COORDINATOR_ID, "sign_out")]


async def test_the_link_never_reaches_the_log(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    link = site.link()
    with caplog.at_level(logging.DEBUG):
        async with site.client() as client:
            await sign_in(client, link)
            await sign_in(client, link)  # refused the second time
    # The server's log (the test's HTTP client logs its own requests).
    logged = "\n".join(
        r.getMessage() for r in caplog.records if r.name.startswith(("tornado", "panel"))
    )
    assert "/signin" in logged  # the request is logged ...
    assert token_of(link) not in logged  # ... without its token
