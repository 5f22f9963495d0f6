"""The base of every page: who is signed in, the CSRF check, texts, security headers.

A page handler derives from `PanelHandler`; by then `self.coordinator` is the
signed-in coordinator (a request without a valid session never reaches it) and
`self.render_page(template, **values)` renders a template with `t()` (the
coordinator's language), `csrf_field()`, the navigation and the values.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

import tornado.web
from babel.dates import format_datetime
from sqlalchemy.ext.asyncio import AsyncSession

from panel import auth, csrf
from storage import changes, outbox, residents

if TYPE_CHECKING:
    from panel.app import Panel

# No script or style from elsewhere; our own PDFs and images may be framed by our pages.
CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'self'; frame-src 'self'; "
    "frame-ancestors 'self'; form-action 'self'; base-uri 'none'"
)
MOMENT = "d MMMM y, HH:mm"


class PanelHandler(tornado.web.RequestHandler):
    # True for the pages open without a session (signing in).
    public = False

    def initialize(self, panel: Panel) -> None:
        self.panel = panel
        self.coordinator: auth.SignedIn | None = None
        self.language = panel.services.translator.language_or_default(None)

    def set_default_headers(self) -> None:
        self.set_header("Content-Security-Policy", CSP)
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Referrer-Policy", "no-referrer")
        self.set_header("Cache-Control", "no-store")

    async def prepare(self) -> None:
        if self.public:
            return
        found = await auth.current(self.panel, self.get_cookie(auth.COOKIE))
        if isinstance(found, auth.Refused):
            self.clear_cookie(auth.COOKIE, path="/")
            self.refuse(401, found.key)
            return
        self.coordinator = found
        async with self.panel.store.transaction() as session:
            row = await residents.find_by_telegram_id(session, found.coordinator_id)
        self.language = self.panel.services.translator.language_or_default(
            row.language if row else None
        )

    def refuse(self, status: int, key: str) -> None:
        """A page that says why, in place of the one asked for."""
        self.set_status(status)
        self.finish(self.page("refused.html", reason=key))

    # --- texts and rendering -----------------------------------------------------------

    def t(self, key: str, /, **values: object) -> str:
        return self.panel.services.translator.text(self.language, key, **values)

    def when(self, moment: datetime | None) -> str:
        if moment is None:
            return ""
        local = moment.astimezone(self.panel.services.timezone)
        return format_datetime(local, MOMENT, locale=self.language)

    def page(self, template: str, /, **values: Any) -> str:
        return self.panel.templates.get_template(template).render(
            t=self.t,
            when=self.when,
            language=self.language,
            csrf_field=lambda: csrf.field(self),
            static_url=self.static_url,
            navigation=self.panel.navigation if self.coordinator else [],
            current_path=self.request.path,
            coordinator=self.coordinator,
            **values,
        )

    def render_page(self, template: str, /, **values: Any) -> None:
        self.finish(self.page(template, **values))

    # --- the store ----------------------------------------------------------------------

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A store transaction; messages it queued are handed to the sender once committed."""
        async with self.panel.store.transaction() as session:
            yield session
            if outbox.wrote_pending(session):
                # A bot in another process (`lokalnie panel` alone) hears of it too.
                await changes.announce(session)
        if outbox.wrote_pending(session):
            self.panel.services.on_outbox_written()

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.finish(self.page("refused.html", reason=_ERRORS.get(status_code, "panel.error")))


_ERRORS = {403: "panel.forbidden", 404: "panel.not_found"}
