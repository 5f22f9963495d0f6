"""The audit log: every coordinator action in the panel, and the page that shows it."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from panel.base import PanelHandler
from storage import panel as panel_store


async def record(
    session: AsyncSession,
    handler: PanelHandler,
    action: str,
    target: str | None = None,
    **detail: Any,
) -> None:
    """Write who did what, in the transaction of the action itself."""
    assert handler.coordinator is not None
    await panel_store.audit(
        session,
        coordinator_id=handler.coordinator.coordinator_id,
        action=action,
        target=target,
        detail=detail or None,
    )


# The label of each action on the page.
ACTIONS = {
    "sign_in": "panel.audit.sign_in",
    "sign_out": "panel.audit.sign_out",
    "status_change": "panel.audit.status_change",
    "scored": "panel.audit.scored",
    "selection": "panel.audit.selection",
    "mail_reply": "panel.audit.mail_reply",
    "mail_handled": "panel.audit.mail_handled",
    "mail_linked": "panel.audit.mail_linked",
    "mail_proposal": "panel.audit.mail_proposal",
    "broadcast_queued": "panel.audit.broadcast_queued",
    "broadcast_scheduled": "panel.audit.broadcast_scheduled",
    "broadcast_cancelled": "panel.audit.broadcast_cancelled",
    "job_cancelled": "panel.audit.job_cancelled",
    "survey_export": "panel.audit.survey_export",
    "survey_leaders": "panel.audit.survey_leaders",
}


class AuditPage(PanelHandler):
    async def get(self) -> None:
        async with self.transaction() as session:
            entries = await panel_store.audit_log(session)
        rows = [
            {
                "at": self.when(entry.at),
                "who": entry.coordinator_id,
                "what": self.t(ACTIONS.get(entry.action, "panel.audit.other"), action=entry.action),
                "target": entry.target or "",
                "detail": ", ".join(f"{k}: {v}" for k, v in (entry.detail or {}).items()),
            }
            for entry in entries
        ]
        self.render_page("audit.html", rows=rows)


NAV = ("panel.nav.audit", "/audit")
ROUTES = [(r"/audit", AuditPage)]
