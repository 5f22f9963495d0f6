"""The dashboard's counts, read from the store: responses by day, messages, open mail."""

from __future__ import annotations

import html

from storage import outbox, residents, surveys
from tests.conftest import COORDINATOR_ID
from tests.panel.conftest import Site, sign_in


async def test_the_dashboard_counts_todays_responses_and_failed_messages(site: Site) -> None:
    async with site.service.store.transaction() as session:
        resident = await residents.create_without_consent(
            session, telegram_id=5001, name="Ala", language="pl"
        )
        for _ in range(2):
            response = await surveys.start_response(
                session,
                survey="diagnoza-2021",
                resident_id=resident.id,
                language="pl",
                channel="telegram",
            )
            await surveys.finish(session, response)
        failed = await outbox.enqueue(
            session,
            channel="telegram",
            recipient="5001",
            payload={"text": "x"},
            idempotency_key="failed-one",
        )
        assert failed is not None
        await outbox.mark_failed(session, failed, error="Forbidden")
    texts = site.service.services.translator
    async with site.client() as client:
        await sign_in(client, site.link())
        page = html.unescape((await client.get("/")).text)
    assert texts.text("pl", "panel.dash.responses", days=14, count=2) in page
    assert f"{texts.text('pl', 'panel.dash.failed')}: <strong>1</strong>" in page
    assert f"{texts.text('pl', 'panel.dash.open_threads')}: <strong>0</strong>" in page


async def test_a_coordinator_who_chose_english_reads_the_panel_in_english(site: Site) -> None:
    async with site.service.store.transaction() as session:
        await residents.create_without_consent(
            session, telegram_id=COORDINATOR_ID, name="Kasia", language="en"
        )
    texts = site.service.services.translator
    async with site.client() as client:
        await sign_in(client, site.link())
        page = html.unescape((await client.get("/")).text)
    assert '<html lang="en">' in page
    assert f"<h1>{texts.text('en', 'panel.nav.dashboard')}</h1>" in page
    assert texts.text("pl", "panel.nav.dashboard") not in page
