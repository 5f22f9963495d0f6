"""Writing a broadcast: text, audience with a live count, a preview, now or later.

The chat's rules and store functions (`handlers/broadcasts/commands.py`): the
same length limit, the same audiences (`handlers/broadcasts/audiences.py`), the
same reading of a moment in the centre's time zone, and `create_broadcast` as
the chat's "send" does; the scheduler expands and sends it. The preview is the
exact message: the text as a chat message, and as an e-mail with the same
subject and unsubscribe line the job adds (`scheduler.runtime.bulk_email`).

"Send" is offered only after a preview, and refused (with the new preview)
when the text, audience or time changed since: what was seen is what is sent.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import datetime
from typing import Any

from handlers.broadcasts import audiences
from handlers.broadcasts.commands import MAX_TEXT, parse_moment
from handlers.core import flow
from handlers.core.flow import InvalidAnswer
from panel import audit
from panel.base import PanelHandler
from scheduler.runtime import bulk_email
from storage import changes
from storage import schedule as store
from storage.audiences import CHAT, Recipient

NOW, LATER = "now", "later"


def _form(handler: PanelHandler) -> dict[str, str]:
    arg = handler.get_body_argument
    return {
        "text": arg("text", ""),
        "audience": arg("audience", ""),
        "when": arg("when", NOW) if arg("when", NOW) in (NOW, LATER) else NOW,
        "date": arg("date", "").strip(),
        "time": arg("time", "").strip(),
    }


def digest(text: str, audience: str, moment: datetime | None) -> str:
    """What a preview showed, so that "send" can tell whether it is still what is sent."""
    seen = json.dumps([text, audience, moment.isoformat() if moment else None])
    return hashlib.sha256(seen.encode()).hexdigest()


def count_text(handler: PanelHandler, people: list[Recipient]) -> str:
    by_channel = Counter("email" if p.channel == "email" else CHAT for p in people)
    return handler.t(
        "panel.bc.count", count=len(people), chat=by_channel[CHAT], email=by_channel["email"]
    )


class Compose(PanelHandler):
    def choices(self) -> list[tuple[str, str]]:
        return [
            (key, self.t(label, **values))
            for key, label, values in audiences.choices(self.panel.services)
        ]

    def show(self, status: int = 200, **values: Any) -> None:
        defaults: dict[str, Any] = {
            "form": {"text": "", "audience": "", "when": NOW, "date": "", "time": ""},
            "error": None,
            "count": None,
            "preview": None,
            "max_text": MAX_TEXT,
        }
        self.set_status(status)
        self.render_page("broadcast_new.html", choices=self.choices(), **{**defaults, **values})

    async def get(self) -> None:
        self.show()

    async def post(self) -> None:
        form = _form(self)
        action = self.get_body_argument("action", "preview")
        services = self.panel.services
        try:
            if not audiences.is_known(services, form["audience"]):
                raise InvalidAnswer("panel.bc.pick_audience")
            async with self.transaction() as session:
                people = await audiences.resolve(session, services, form["audience"])
            if action == "count":
                self.show(form=form, count=count_text(self, people))
                return
            text = flow.free_text(form["text"], min_length=None, max_length=MAX_TEXT)
            moment = None
            if form["when"] == LATER:
                moment = parse_moment(
                    f"{form['date']} {form['time']}",
                    timezone=services.timezone,
                    now=services.clock(),
                )
        except InvalidAnswer as problem:
            self.show(400, form=form, error=self.t(problem.key, **problem.values))
            return
        seen = digest(text, form["audience"], moment)
        if action == "send" and self.get_body_argument("previewed", "") == seen:
            await self.create(text, form["audience"], moment, len(people))
            return
        preview = self.preview(text, people, moment, seen)
        if action == "send":
            # Changed since the preview: show what would go now instead of sending it.
            preview["changed"] = True
        self.show(form=form, count=count_text(self, people), preview=preview)

    def preview(
        self, text: str, people: list[Recipient], moment: datetime | None, seen: str
    ) -> dict[str, Any]:
        subject, body = bulk_email(self.panel.services, self.language, text)
        return {
            "chat": text if any(p.channel != "email" for p in people) else None,
            "email": {"subject": subject, "body": body}
            if any(p.channel == "email" for p in people)
            else None,
            "nobody": not people,
            "when": self.when(moment) if moment else None,
            "digest": seen,
            "changed": False,
        }

    async def create(self, text: str, audience: str, moment: datetime | None, count: int) -> None:
        services = self.panel.services
        assert self.coordinator is not None
        async with self.transaction() as session:
            broadcast = await store.create_broadcast(
                session,
                created_by=self.coordinator.coordinator_id,
                text=text,
                audience=audience,
                scheduled_at=moment or services.clock(),
            )
            await audit.record(
                session,
                self,
                "broadcast_scheduled" if moment else "broadcast_queued",
                f"#{broadcast.id}",
                audience=audience,
                recipients=count,
            )
            # A bot in another process (`lokalnie panel` alone) plans it at once too.
            await changes.announce(session)
        services.on_schedule_changed()
        done = "scheduled" if moment else "queued"
        self.redirect(f"/broadcasts?{done}={broadcast.id}", status=303)


class RecipientCount(PanelHandler):
    """How many an audience reaches, as JSON, for the compose page's small script."""

    async def get(self) -> None:
        services = self.panel.services
        key = self.get_query_argument("audience", "")
        self.set_header("Content-Type", "application/json; charset=utf-8")
        if not audiences.is_known(services, key):
            self.set_status(404)
            self.finish(json.dumps({"error": self.t("panel.bc.pick_audience")}))
            return
        async with self.transaction() as session:
            people = await audiences.resolve(session, services, key)
        self.finish(
            json.dumps({"count": len(people), "text": count_text(self, people)}, ensure_ascii=False)
        )


ROUTES = [(r"/broadcasts/new", Compose), (r"/broadcasts/count", RecipientCount)]
