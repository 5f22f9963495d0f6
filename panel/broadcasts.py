"""Broadcasts and the schedule: the list with progress, what will run next, cancelling.

The same store functions as the chat's /broadcast, /schedule and the CLI
(`storage/schedule.py`, `handlers/broadcasts/plan.py`): a broadcast stopped here
stops as one stopped by the chat's button. Writing a new broadcast is in
`panel/broadcast_compose.py`. A change is announced to a bot in another process
(`storage.changes.announce`, as the CLI does) and to the scheduler in this one.

Words are honest: a broadcast is "scheduled" or "queued" until its messages
are delivered; "sent" counts only messages the outbox delivered.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.broadcasts import audiences, plan
from panel import audit
from panel.base import PanelHandler
from panel.upcoming import find_job, upcoming
from storage import changes
from storage import schedule as store

# Broadcasts listed, newest first.
LISTED = 50
# How often the page asks for fresh progress while something is being sent (ms).
POLL_MS = 3000
ACTIVE = (store.SCHEDULED, store.SENDING)


def audience_label(handler: PanelHandler, key: str) -> str:
    """The audience as the chat's menu names it; the key when no longer offered."""
    for offered, label, values in audiences.choices(handler.panel.services):
        if offered == key:
            return handler.t(label, **values)
    return key


def state(handler: PanelHandler, broadcast: store.Broadcast, counts: dict[str, int]) -> str:
    """Where a broadcast stands, in words that claim delivery only once it happened."""
    values = {"sent": counts["sent"], "total": broadcast.total, **counts}
    if broadcast.status == store.CANCELLED:
        return handler.t("panel.bc.state.cancelled", **values)
    if broadcast.status == store.DONE:
        return handler.t("panel.bc.state.done", **values)
    if broadcast.status == store.SENDING:
        return handler.t("panel.bc.state.sending", **values)
    if is_later(handler, broadcast):
        return handler.t("panel.bc.state.scheduled", when=handler.when(broadcast.scheduled_at))
    return handler.t("panel.bc.state.queued")


def is_later(handler: PanelHandler, broadcast: store.Broadcast) -> bool:
    moment = broadcast.scheduled_at
    return moment is not None and moment > handler.panel.services.clock()


async def rows(handler: PanelHandler, session: AsyncSession) -> list[dict[str, Any]]:
    found = (await store.broadcasts(session))[-LISTED:]
    listed = []
    for broadcast in reversed(found):
        counts = await store.progress(session, broadcast.id)
        listed.append(
            {
                "id": broadcast.id,
                "text": broadcast.text,
                "audience": audience_label(handler, broadcast.audience),
                "when": handler.when(broadcast.scheduled_at or broadcast.created_at),
                "state": state(handler, broadcast, counts),
                "sent": counts["sent"],
                "waiting": counts["waiting"],
                "failed": counts["failed"],
                "total": broadcast.total,
                "active": broadcast.status in ACTIVE,
                # Running: due now, so its numbers move and the page keeps them fresh.
                "running": broadcast.status == store.SENDING
                or (broadcast.status == store.SCHEDULED and not is_later(handler, broadcast)),
            }
        )
    return listed


class BroadcastList(PanelHandler):
    async def get(self) -> None:
        async with self.transaction() as session:
            listed = await rows(self, session)
            planned = await upcoming(self, session)
        notice = None
        number = self.get_query_argument("queued", "")
        if number.isdigit():
            notice = self.t("panel.bc.queued_notice", number=number)
        number = self.get_query_argument("scheduled", "")
        if number.isdigit():
            notice = self.t("panel.bc.scheduled_notice", number=number)
        number = self.get_query_argument("stopped", "")
        count = self.get_query_argument("count", "0")
        if number.isdigit() and count.isdigit():
            notice = self.t("broadcast.stopped", number=number, count=int(count))
        if self.get_query_argument("job_cancelled", ""):
            notice = self.t("panel.bc.job_cancelled")
        self.render_page(
            "broadcasts.html",
            rows=listed,
            planned=planned,
            notice=notice,
            running=any(row["running"] for row in listed),
            poll_ms=POLL_MS,
        )


class BroadcastProgress(PanelHandler):
    """The list's numbers as JSON, for the page's small script while something is sent."""

    async def get(self) -> None:
        async with self.transaction() as session:
            listed = await rows(self, session)
        keys = ("id", "state", "sent", "waiting", "failed", "total", "active", "running")
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(
            json.dumps(
                {
                    "running": any(row["running"] for row in listed),
                    "rows": [{k: row[k] for k in keys} for row in listed],
                },
                ensure_ascii=False,
            )
        )


class BroadcastCancel(PanelHandler):
    """Stopping a broadcast: a confirmation page, then the stop itself."""

    async def get(self, broadcast_id: str) -> None:
        async with self.transaction() as session:
            broadcast = await store.get_broadcast(session, int(broadcast_id))
            if broadcast is None:
                self.refuse(404, "panel.not_found")
                return
            counts = await store.progress(session, broadcast.id)
        self.render_page(
            "broadcast_cancel.html",
            broadcast={
                "id": broadcast.id,
                "text": broadcast.text,
                "audience": audience_label(self, broadcast.audience),
                "state": state(self, broadcast, counts),
                "active": broadcast.status in ACTIVE,
            },
        )

    async def post(self, broadcast_id: str) -> None:
        async with self.transaction() as session:
            broadcast = await store.get_broadcast(session, int(broadcast_id))
            if broadcast is None:
                self.refuse(404, "panel.not_found")
                return
            if broadcast.status not in ACTIVE:
                self.refuse(409, "broadcast.nothing_to_stop")
                return
            count = await store.cancel_broadcast(session, broadcast)
            await audit.record(
                session, self, "broadcast_cancelled", f"#{broadcast.id}", not_sent=count
            )
            await changes.announce(session)
        self.panel.services.on_schedule_changed()
        self.redirect(f"/broadcasts?stopped={broadcast_id}&count={count}", status=303)


class JobCancel(PanelHandler):
    """Cancelling a planned reminder: a confirmation page, then the cancel itself."""

    async def get(self) -> None:
        job_id = self.get_query_argument("job", "")
        async with self.transaction() as session:
            planned = [job for job in await upcoming(self, session) if job["id"] == job_id]
        if not planned or not planned[0]["cancellable"]:
            self.refuse(404, "panel.bc.job_gone")
            return
        self.render_page("job_cancel.html", job=planned[0])

    async def post(self) -> None:
        job_id = self.get_body_argument("job", "")
        async with self.transaction() as session:
            job = await find_job(self, session, job_id)
            if job is None or job.kind not in plan.CANCELLABLE:
                self.refuse(404, "panel.bc.job_gone")
                return
            await plan.cancel(session, job)
            await audit.record(session, self, "job_cancelled", job.id)
            await changes.announce(session)
        self.panel.services.on_schedule_changed()
        self.redirect("/broadcasts?job_cancelled=1", status=303)


NAV = ("panel.nav.broadcasts", "/broadcasts")
ROUTES = [
    (r"/broadcasts", BroadcastList),
    (r"/broadcasts/progress", BroadcastProgress),
    (r"/broadcasts/([0-9]+)/cancel", BroadcastCancel),
    (r"/broadcasts/jobs/cancel", JobCancel),
]
