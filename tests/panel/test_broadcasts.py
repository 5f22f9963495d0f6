"""The broadcasts and schedule pages over real HTTP, on both stores.

A broadcast written in the panel must be the chat's broadcast: the same
audience, the same row the scheduler expands into the outbox, the same stop.
The page says "w kolejce" or "zaplanowana" until messages are delivered.
"""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select, update

from scheduler.jobs import execute
from scheduler.runtime import JobRuntime
from storage import residents, schedule, surveys
from storage.models import Broadcast, JobRun, OutboxMessage, PanelAudit
from tests.conftest import COORDINATOR_ID
from tests.handlers.survey_fixture import sample_survey
from tests.panel.conftest import Site, form_token, sign_in

NOW = datetime(2030, 6, 10, 10, 0, tzinfo=UTC)
TEXT = "Zapraszamy w sobotę na festyn sąsiedzki!\nStart o 15:00."


def t(site: Site, key: str, **values: object) -> str:
    return site.service.services.translator.text("pl", key, **values)


def page_text(response: httpx.Response) -> str:
    return html.unescape(response.text)


async def person(
    site: Site,
    telegram_id: int | None,
    *,
    subscribed: bool = True,
    email: str | None = None,
) -> int:
    async with site.service.store.transaction() as session:
        row = await residents.create_with_consent(
            session, telegram_id=telegram_id, name=f"R{telegram_id}", language="pl"
        )
        row.subscribed = subscribed
        row.email = email
        await session.flush()
        return row.id


async def town(site: Site) -> None:
    """Three subscribed in chat, one by e-mail only, one not subscribed."""
    for telegram_id in (501, 502, 503):
        await person(site, telegram_id)
    await person(site, None, email="ola@example.pl")
    await person(site, 504, subscribed=False)


async def stored(site: Site, model: type) -> list:  # type: ignore[type-arg]
    async with site.service.store.transaction() as session:
        return list(await session.scalars(select(model).order_by(model.id)))


@pytest.fixture
async def client(site: Site) -> AsyncIterator[httpx.AsyncClient]:
    site.service.services.clock = lambda: NOW
    async with site.client() as client:
        await sign_in(client, site.link())
        yield client


async def compose(client: httpx.AsyncClient, **form: str) -> httpx.Response:
    xsrf = form_token((await client.get("/broadcasts/new")).text)
    return await client.post("/broadcasts/new", data={**form, "_xsrf": xsrf})


async def previewed(client: httpx.AsyncClient, **form: str) -> dict[str, str]:
    """The form as sent after a preview: with the preview's fingerprint."""
    shown = await compose(client, **form, action="preview")
    assert shown.status_code == 200, page_text(shown)
    found = re.search(r'name="previewed" value="([0-9a-f]+)"', shown.text)
    assert found, "the preview offers no send button"
    return {**form, "previewed": found.group(1), "action": "send"}


async def test_the_count_matches_the_audience_with_and_without_script(
    site: Site, client: httpx.AsyncClient
) -> None:
    await town(site)
    counted = (await client.get("/broadcasts/count", params={"audience": "subscribers"})).json()
    assert counted["count"] == 4
    assert counted["text"] == t(site, "panel.bc.count", count=4, chat=3, email=1)
    by_mail = (await client.get("/broadcasts/count", params={"audience": "email"})).json()
    assert by_mail["count"] == 1
    unknown = await client.get("/broadcasts/count", params={"audience": "everyone"})
    assert unknown.status_code == 404
    # Without the script: the "count" button gives the same number on the page.
    page = await compose(client, text="", audience="subscribers", action="count")
    assert t(site, "panel.bc.count", count=4, chat=3, email=1) in page_text(page)
    assert await stored(site, Broadcast) == []


async def test_the_preview_shows_the_exact_messages_and_changes_nothing(
    site: Site, client: httpx.AsyncClient
) -> None:
    await town(site)
    shown = page_text(
        await compose(client, text=TEXT, audience="subscribers", when="now", action="preview")
    )
    assert t(site, "panel.bc.preview_title") in shown
    assert f'<div class="message">{TEXT}</div>' in shown  # in the chat: the text itself
    # By e-mail: the subject and the unsubscribe line the job adds.
    assert f"{TEXT}\n\n--\n{t(site, 'broadcast.unsubscribe_line')}" in shown
    assert TEXT[:60] in shown
    assert t(site, "panel.bc.send_now") in shown
    assert await stored(site, Broadcast) == [] and await stored(site, OutboxMessage) == []


async def test_bad_input_is_refused_with_a_reason(site: Site, client: httpx.AsyncClient) -> None:
    empty = await compose(client, text="  ", audience="subscribers", action="preview")
    assert empty.status_code == 400 and t(site, "flow.invalid.empty") in page_text(empty)
    nobody = await compose(client, text=TEXT, audience="", action="preview")
    assert nobody.status_code == 400 and t(site, "panel.bc.pick_audience") in page_text(nobody)
    past = await compose(
        client, text=TEXT, audience="subscribers", when="later", date="2030-06-01", action="send"
    )
    assert past.status_code == 400 and t(site, "broadcast.moment_past") in page_text(past)
    assert await stored(site, Broadcast) == []


async def test_send_now_queues_the_chats_broadcast_and_the_job_reaches_the_audience(
    site: Site, client: httpx.AsyncClient
) -> None:
    await town(site)
    form = await previewed(client, text=TEXT, audience="subscribers", when="now")
    sent = await client.post(
        "/broadcasts/new", data={**form, "_xsrf": form_token((await client.get("/")).text)}
    )
    assert sent.status_code == 303
    [broadcast] = await stored(site, Broadcast)
    assert sent.headers["location"] == f"/broadcasts?queued={broadcast.id}"
    assert (broadcast.text, broadcast.audience, broadcast.created_by) == (
        TEXT,
        "subscribers",
        COORDINATOR_ID,
    )
    assert broadcast.status == schedule.SCHEDULED and broadcast.scheduled_at == NOW
    assert [(a.action, a.target) for a in await stored(site, PanelAudit)][-1] == (
        "broadcast_queued",
        f"#{broadcast.id}",
    )
    listed = page_text(await client.get(sent.headers["location"]))
    assert t(site, "panel.bc.queued_notice", number=broadcast.id) in listed
    assert t(site, "panel.bc.state.queued") in listed

    # The scheduler's own job expands it into the outbox; delivery is simulated as it goes.
    run = JobRuntime(site.service.store, site.service.services, progress_every=0.01)
    job = f"broadcast:{broadcast.id}"
    task = asyncio.create_task(execute(run, "broadcast", str(broadcast.id), job))
    checked = False
    while not task.done():
        await asyncio.sleep(0.01)
        rows = await stored(site, OutboxMessage)
        if len(rows) < 4 or checked:
            continue
        # Mid-way: one delivered, one refused; the page counts just those as done.
        async with site.service.store.transaction() as session:
            for row, status in ((rows[0], "sent"), (rows[1], "failed")):
                await session.execute(
                    update(OutboxMessage).where(OutboxMessage.id == row.id).values(status=status)
                )
        progress = (await client.get("/broadcasts/progress")).json()
        [row] = progress["rows"]
        assert (row["sent"], row["failed"], row["waiting"]) == (1, 1, 2)
        assert row["running"] and progress["running"]
        assert t(site, "panel.bc.state.sending", sent=1, total=4) == row["state"]
        async with site.service.store.transaction() as session:
            await session.execute(
                update(OutboxMessage).where(OutboxMessage.status == "pending").values(status="sent")
            )
        checked = True
    assert checked
    await task
    messages = await stored(site, OutboxMessage)
    chats = sorted(m.recipient for m in messages if m.channel == "telegram")
    assert chats == ["501", "502", "503"]
    assert [m.recipient for m in messages if m.channel == "email"] == ["ola@example.pl"]
    assert all(TEXT in m.payload["text"] for m in messages)
    finished = page_text(await client.get("/broadcasts"))
    assert t(site, "panel.bc.state.done", sent=3, total=4) in finished


async def test_a_later_broadcast_is_scheduled_in_local_time_and_can_be_stopped(
    site: Site, client: httpx.AsyncClient
) -> None:
    await town(site)
    form = await previewed(
        client, text=TEXT, audience="subscribers", when="later", date="2030-06-15", time="18:00"
    )
    xsrf = form_token((await client.get("/")).text)
    # Edited after the preview: nothing is sent, the new preview is shown instead.
    changed = await client.post(
        "/broadcasts/new", data={**form, "text": TEXT + " Zmiana.", "_xsrf": xsrf}
    )
    assert changed.status_code == 200 and t(site, "panel.bc.changed") in page_text(changed)
    assert await stored(site, Broadcast) == []
    sent = await client.post("/broadcasts/new", data={**form, "_xsrf": xsrf})
    assert sent.status_code == 303
    [broadcast] = await stored(site, Broadcast)
    # 18:00 in Warsaw in June is 16:00 UTC.
    assert broadcast.scheduled_at == datetime(2030, 6, 15, 16, 0, tzinfo=UTC)
    listed = page_text(await client.get("/broadcasts"))
    assert t(site, "panel.bc.state.scheduled", when="15 czerwca 2030, 18:00") in listed
    assert t(site, "panel.bc.col.sent") in listed and "wysłano" not in listed.split("<tbody>")[1]

    confirm = await client.get(f"/broadcasts/{broadcast.id}/cancel")
    assert t(site, "panel.bc.stop_confirm") in page_text(confirm)
    async with site.service.store.transaction() as session:
        assert (await schedule.get_broadcast(session, broadcast.id)).status == schedule.SCHEDULED
    stopped = await client.post(
        f"/broadcasts/{broadcast.id}/cancel", data={"_xsrf": form_token(confirm.text)}
    )
    assert stopped.status_code == 303
    async with site.service.store.transaction() as session:
        again = await schedule.get_broadcast(session, broadcast.id)
        assert again is not None and again.status == schedule.CANCELLED
    audit = [(a.action, a.target) for a in await stored(site, PanelAudit)]
    assert ("broadcast_scheduled", f"#{broadcast.id}") in audit
    assert ("broadcast_cancelled", f"#{broadcast.id}") in audit
    shown = page_text(await client.get(stopped.headers["location"]))
    assert t(site, "broadcast.stopped", number=broadcast.id, count=0) in shown
    twice = await client.post(
        f"/broadcasts/{broadcast.id}/cancel", data={"_xsrf": form_token(confirm.text)}
    )
    assert twice.status_code == 409


async def test_upcoming_reminders_show_their_text_and_can_be_cancelled(
    site: Site, client: httpx.AsyncClient
) -> None:
    services = site.service.services
    services.surveys = {"probna": sample_survey(closes=datetime(2030, 6, 20, 21, 59, tzinfo=UTC))}
    services.schedule_rules = services.schedule_rules.model_copy(
        update={"survey_reminders": [timedelta(days=3)]}
    )
    started = await person(site, 601, subscribed=False)
    async with site.service.store.transaction() as session:
        await surveys.start_response(
            session, survey="probna", resident_id=started, language="pl", channel="telegram"
        )
    listed = page_text(await client.get("/broadcasts"))
    reminder = t(site, "reminder.survey", name="Ankieta próbna", when="20 czerwca 2030, 23:59")
    assert reminder in listed
    assert t(site, "panel.bc.recipients", count=1) in listed
    job_id = "survey-reminder:probna:3d"
    confirm = await client.get("/broadcasts/jobs/cancel", params={"job": job_id})
    assert reminder in page_text(confirm)
    done = await client.post(
        "/broadcasts/jobs/cancel", data={"job": job_id, "_xsrf": form_token(confirm.text)}
    )
    assert done.status_code == 303
    assert reminder not in page_text(await client.get("/broadcasts"))
    [ran] = await stored(site, JobRun)
    assert (ran.job_id, ran.outcome) == (job_id, "cancelled")
    # The job itself now does nothing.
    run = JobRuntime(site.service.store, services)
    assert await execute(run, "survey_reminder", "probna", job_id) == "already done"
    assert ("job_cancelled", job_id) in [
        (a.action, a.target) for a in await stored(site, PanelAudit)
    ]
    gone = await client.post(
        "/broadcasts/jobs/cancel", data={"job": job_id, "_xsrf": form_token(confirm.text)}
    )
    assert gone.status_code == 404


async def test_every_action_needs_the_form_token(site: Site, client: httpx.AsyncClient) -> None:
    await town(site)
    form = await previewed(client, text=TEXT, audience="subscribers", when="now")
    forged = await client.post("/broadcasts/new", data=form)
    assert forged.status_code == 403
    assert await stored(site, Broadcast) == []
    async with site.service.store.transaction() as session:
        broadcast = await schedule.create_broadcast(
            session, created_by=1, text=TEXT, audience="subscribers", scheduled_at=NOW
        )
    assert (await client.post(f"/broadcasts/{broadcast.id}/cancel")).status_code == 403
    assert (await client.post("/broadcasts/jobs/cancel", data={"job": "x"})).status_code == 403
    async with site.service.store.transaction() as session:
        again = await schedule.get_broadcast(session, broadcast.id)
        assert again is not None and again.status == schedule.SCHEDULED
    assert [a.action for a in await stored(site, PanelAudit)] == ["sign_in"]
    async with site.client() as stranger:
        assert (await stranger.get("/broadcasts")).status_code == 401
        assert (await stranger.get("/broadcasts/count?audience=subscribers")).status_code == 401


async def test_winners_and_applicants_are_offered_with_a_contest(
    site: Site, client: httpx.AsyncClient
) -> None:
    page = page_text(await client.get("/broadcasts/new"))
    assert t(site, "audience.applicants") in page and t(site, "audience.winners") in page
