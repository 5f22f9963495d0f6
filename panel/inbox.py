"""The inbox: mail threads (the unhandled first, with search and pages), one thread,
and an attachment served to a signed-in coordinator.

What a thread shows is put together in `panel/inbox_view.py`; what a
coordinator does with it (reply, mark handled, link to or make a proposal) is
in `panel/inbox_actions.py`.
"""

from __future__ import annotations

from urllib.parse import quote

from panel import inbox_actions
from panel.base import PanelHandler
from panel.inbox_view import inline_type, state_key, stored_path, thread_view
from storage import mail as store

PAGE_SIZE = 50
MAX_SEARCH = 100


class InboxList(PanelHandler):
    async def get(self) -> None:
        search = self.get_query_argument("q", "").strip()[:MAX_SEARCH]
        page = _page_number(self.get_query_argument("page", "1"))
        async with self.transaction() as session:
            found = await store.thread_page(
                session, search=search, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE
            )
            shown = found[:PAGE_SIZE]
            senders = await store.latest_senders(session, [thread.id for thread in shown])
        rows = []
        for thread in shown:
            name, address = senders.get(thread.id, ("", thread.counterpart))
            rows.append(
                {
                    "id": thread.id,
                    "subject": thread.subject or self.t("mail.no_subject"),
                    "sender": name or address or thread.counterpart or "?",
                    "address": address if name else "",
                    "when": self.when(thread.last_message_at),
                    "count": thread.message_count,
                    "open": thread.status == store.OPEN,
                    "state": self.t(state_key(thread)),
                }
            )
        self.render_page(
            "inbox.html",
            rows=rows,
            query=search,
            page=page,
            previous_page=page - 1 if page > 1 else None,
            next_page=page + 1 if len(found) > PAGE_SIZE else None,
        )


def _page_number(raw: str) -> int:
    return max(1, min(int(raw), 10_000)) if raw.isdigit() else 1


class ThreadPage(PanelHandler):
    async def get(self, thread_id: str) -> None:
        values = await thread_view(self, int(thread_id))
        if values is None:
            self.refuse(404, "mail.gone")
            return
        self.render_page("inbox_thread.html", **values)


class MailFile(PanelHandler):
    """An e-mail's attachment: a PDF or picture (told from its bytes) inline, anything
    else as a download of type application/octet-stream, never as a page."""

    async def get(self, attachment_id: str) -> None:
        async with self.transaction() as session:
            attachment = await store.get_attachment(session, int(attachment_id))
            message = (
                await store.get_message(session, attachment.message_id) if attachment else None
            )
        data_dir = self.panel.services.data_dir
        path = stored_path(data_dir, attachment) if attachment else None
        if attachment is None or message is None or message.erased_at or path is None:
            self.refuse(404, "panel.not_found")
            return
        shown_as = inline_type(data_dir, attachment)
        self.set_header("Content-Type", shown_as or "application/octet-stream")
        name = quote(attachment.filename or str(attachment.id))
        disposition = "inline" if shown_as else "attachment"
        self.set_header("Content-Disposition", f"{disposition}; filename*=UTF-8''{name}")
        if shown_as != "application/pdf":
            # A PDF needs the browser's own viewer, which a sandbox would block.
            self.set_header("Content-Security-Policy", "sandbox; default-src 'none'")
        self.finish(path.read_bytes())


NAV = ("panel.nav.inbox", "/inbox")
ROUTES = [
    (r"/inbox", InboxList),
    (r"/inbox/([0-9]+)", ThreadPage),
    (r"/inbox/files/([0-9]+)", MailFile),
    *inbox_actions.ROUTES,
]
