"""The proposals pages over real HTTP: the table, one proposal, its files, a status change.

A status change from the panel must do what the same change in chat does: the
history, the applicant's chat message and e-mail, and here also the audit entry.
"""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from handlers.core.events import Inbound, Kind
from handlers.core.services import Channels
from storage import proposals, residents
from storage.models import OutboxMessage, PanelAudit
from tests.conftest import COORDINATOR_ID
from tests.handlers.review_fixture import Made, submit_in
from tests.panel.conftest import Site, form_token, sign_in

NOW = datetime(2030, 6, 10, 10, 0, tzinfo=UTC)
APPLICANT = 9101
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


def t(site: Site, key: str, **values: object) -> str:
    return site.service.services.translator.text("pl", key, **values)


def page_text(response: httpx.Response) -> str:
    return html.unescape(response.text)


async def make(site: Site, title: str, amount: str, minutes: int = 0, **values: object) -> Made:
    contest = site.service.services.contest
    assert contest is not None
    return await submit_in(
        site.service.store, contest, title=title, amounts=[amount], minutes=minutes, **values
    )


@pytest.fixture
async def client(site: Site) -> AsyncIterator[httpx.AsyncClient]:
    """A coordinator signed in."""
    site.service.services.clock = lambda: NOW
    async with site.client() as client:
        await sign_in(client, site.link())
        yield client


async def test_the_table_searches_filters_and_sorts(site: Site, client: httpx.AsyncClient) -> None:
    kino = await make(site, "Kino pod chmurką", "9000")
    festyn = await make(site, "Festyn sąsiedzki", "2500", minutes=1)
    await make(site, "Warsztaty ceramiki", "10000", minutes=2)
    listed = page_text(await client.get("/proposals"))
    assert listed.index(kino.number) < listed.index(festyn.number)  # by date first
    by_amount = page_text(await client.get("/proposals", params={"sort": "amount"}))
    assert by_amount.index("Warsztaty") < by_amount.index("Kino") < by_amount.index("Festyn")
    found = page_text(await client.get("/proposals", params={"q": "festyn"}))
    assert "Festyn sąsiedzki" in found and "Kino pod chmurką" not in found
    async with site.service.store.transaction() as session:
        stored = await proposals.get(session, kino.id)
        assert stored is not None
        await proposals.record(session, stored, "status", to_status=proposals.REJECTED)
    rejected = page_text(await client.get("/proposals", params={"status": "rejected"}))
    assert "Kino pod chmurką" in rejected and "Festyn" not in rejected
    nothing = page_text(await client.get("/proposals", params={"q": "zzz"}))
    assert t(site, "panel.no_proposals") in nothing


async def test_a_proposal_shows_its_fields_budget_history_and_files(
    site: Site, client: httpx.AsyncClient
) -> None:
    made = await make(site, "Potańcówka pod lipami", "6000")
    data_dir: Path = site.service.services.data_dir
    (data_dir / "files").mkdir(parents=True, exist_ok=True)
    (data_dir / "files" / "plakat.png").write_bytes(PNG)
    async with site.service.store.transaction() as session:
        stored = await proposals.get(session, made.id)
        assert stored is not None
        attachment = await proposals.add_attachment(
            session,
            proposal=stored,
            name="plakat.png",
            mime_type="image/png",
            size=len(PNG),
            path="files/plakat.png",
        )
        await session.flush()
        file_id = attachment.id
    page = page_text(await client.get(f"/proposals/{made.id}"))
    assert "Potańcówka pod lipami" in page
    assert "Koło Gospodyń Wiejskich" in page
    assert "Pozycja 1" in page and "6\u00a0000\u00a0zł" in page
    assert t(site, "proposal.status.submitted") in page
    assert f'<img src="/proposals/{made.id}/files/{file_id}"' in page
    served = await client.get(f"/proposals/{made.id}/files/{file_id}")
    assert served.status_code == 200 and served.content == PNG
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert (await client.get(f"/proposals/{made.id}/files/{file_id + 1}")).status_code == 404
    async with site.client() as stranger:
        assert (await stranger.get(f"/proposals/{made.id}/files/{file_id}")).status_code == 401


async def test_a_resubmitted_proposal_shows_what_changed_since_the_last_submission(
    site: Site, client: httpx.AsyncClient
) -> None:
    made = await make(site, "Potańcówka pod lipami", "6000")
    async with site.service.store.transaction() as session:
        stored = await proposals.get(session, made.id)
        assert stored is not None
        await proposals.take_snapshot(session, stored, "submitted")
        await proposals.set_answer(session, stored, "tytul", "Potańcówka pod starymi lipami")
        await proposals.take_snapshot(session, stored, "resubmitted")
    page = page_text(await client.get(f"/proposals/{made.id}"))
    title = t(site, "review.diff_review_title", when="@")
    assert title.split("@")[0] in page
    changed = t(
        site,
        "review.diff_field",
        question="Tytuł inicjatywy",
        before="Potańcówka pod lipami",
        after="Potańcówka pod starymi lipami",
    )
    assert changed in page


async def test_a_status_change_previews_then_tells_the_applicant_like_the_chat(
    site: Site, client: httpx.AsyncClient
) -> None:
    services = site.service.services
    services.channels = Channels(telegram=True, email_out=True)
    async with site.service.store.transaction() as session:
        await residents.create_without_consent(
            session, telegram_id=APPLICANT, name="Ala", language="pl"
        )
    made = await make(site, "Potańcówka pod lipami", "6000", telegram_id=APPLICANT)
    note = "Proszę dopisać, kto poprowadzi tańce."
    form = {"status": proposals.CHANGES_REQUESTED, "until": "2030-06-20", "note": note}
    page = await client.get(f"/proposals/{made.id}")
    xsrf = form_token(page.text)
    preview = await client.post(
        f"/proposals/{made.id}/status", data={**form, "action": "preview", "_xsrf": xsrf}
    )
    shown = page_text(preview)
    assert t(site, "panel.preview_title") in shown
    assert "Prosimy o poprawki." in shown and note in shown and "20 czerwca 2030" in shown
    async with site.service.store.transaction() as session:
        assert (await session.scalars(select(OutboxMessage))).all() == []
        stored = await proposals.get(session, made.id)
        assert stored is not None and stored.status == proposals.SUBMITTED

    sent = await client.post(
        f"/proposals/{made.id}/status", data={**form, "action": "send", "_xsrf": xsrf}
    )
    assert sent.status_code == 200
    done = page_text(sent)
    assert "kgw@example.pl" in done
    assert t(site, "proposal.status.changes_requested") in done
    async with site.service.store.transaction() as session:
        stored = await proposals.get(session, made.id)
        assert stored is not None and stored.status == proposals.CHANGES_REQUESTED
        [last] = (await proposals.history(session, made.id))[-1:]
        assert (last.to_status, last.actor, last.note) == (
            proposals.CHANGES_REQUESTED,
            COORDINATOR_ID,
            note,
        )
        messages = {m.channel: m for m in await session.scalars(select(OutboxMessage))}
        audit = [(a.action, a.target) for a in await session.scalars(select(PanelAudit))]
    assert messages["telegram"].recipient == str(APPLICANT)
    assert note in messages["telegram"].payload["text"]
    assert messages["email"].recipient == "kgw@example.pl"
    assert ("status_change", made.number) in audit


async def test_a_change_the_chat_would_refuse_is_refused_and_changes_nothing(
    site: Site, client: httpx.AsyncClient
) -> None:
    made = await make(site, "Kino", "5000")
    xsrf = form_token((await client.get(f"/proposals/{made.id}")).text)
    no_date = await client.post(
        f"/proposals/{made.id}/status",
        data={"status": proposals.CHANGES_REQUESTED, "action": "send", "_xsrf": xsrf},
    )
    assert no_date.status_code == 400
    assert t(site, "panel.until_required") in page_text(no_date)
    past = await client.post(
        f"/proposals/{made.id}/status",
        data={
            "status": proposals.CHANGES_REQUESTED,
            "until": "2030-06-01",
            "action": "send",
            "_xsrf": xsrf,
        },
    )
    assert t(site, "review.date_past") in page_text(past)
    same = await client.post(
        f"/proposals/{made.id}/status",
        data={"status": "submitted", "action": "send", "_xsrf": xsrf},
    )
    assert same.status_code == 400
    async with site.service.store.transaction() as session:
        stored = await proposals.get(session, made.id)
        assert stored is not None and stored.status == proposals.SUBMITTED
        assert (await session.scalars(select(OutboxMessage))).all() == []


async def test_the_dashboard_counts_what_needs_attention(
    site: Site, client: httpx.AsyncClient
) -> None:
    await make(site, "Kino", "5000")
    page = page_text(await client.get("/"))
    assert t(site, "panel.dash.deadline_passed") in page
    assert f"{t(site, 'proposal.status.submitted')}</a>: <strong>1</strong>" in page
    assert t(site, "panel.channel.email_out") in page  # not configured in tests
    # The sample call closes on 7 June 2030 at 23:59 in Warsaw.
    site.service.services.clock = lambda: datetime(2030, 6, 1, 10, 0, tzinfo=UTC)
    assert t(site, "panel.dash.deadline_in", days=6) in page_text(await client.get("/"))


async def test_the_panel_command_gives_a_coordinator_a_working_link(site: Site) -> None:
    service = site.service
    ask = Inbound(
        channel="telegram",
        chat_id=str(COORDINATOR_ID),
        kind=Kind.COMMAND,
        command="panel",
        user_id=COORDINATOR_ID,
        is_coordinator=True,
    )
    [reply] = await service.handle(ask)
    link = next(word for word in reply.text.split() if word.startswith(site.base_url))
    async with site.client() as browser:
        assert (await sign_in(browser, link)).status_code == 303
    service.services.panel_link = None
    [reply] = await service.handle(ask)
    assert reply.text == t(site, "panel.not_configured")
    resident = Inbound(
        channel="telegram", chat_id="5001", kind=Kind.COMMAND, command="panel", user_id=5001
    )
    [refused] = await service.handle(resident)
    assert site.base_url not in refused.text
