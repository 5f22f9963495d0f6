"""The dashboard: what needs attention today, read from the store."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from handlers.broadcasts.plan import current_plan
from handlers.broadcasts.plan import subject as plan_subject
from handlers.contest.review import status_label
from panel.base import PanelHandler
from panel.feature import coordinator_context
from storage import dashboard, outbox
from storage import proposals as proposal_store

DAYS = 14
UPCOMING = 8


class Dashboard(PanelHandler):
    async def get(self) -> None:
        services = self.panel.services
        now = services.clock()
        zone = services.timezone
        today = now.astimezone(zone).date()
        async with self.transaction() as session:
            finished = await dashboard.finished_since(session, now - timedelta(days=DAYS))
            threads = await dashboard.open_threads(session)
            messages = await outbox.status_counts(session)
            contest = services.contest
            counts = await proposal_store.counts_by_status(session, contest.slug) if contest else {}
            planned = await current_plan(
                session,
                surveys=services.surveys,
                contest=contest,
                rules=services.schedule_rules,
                now=now,
            )
            ctx = await coordinator_context(session, self)
        by_day = Counter(moment.astimezone(zone).date() for moment in finished)
        days = [today - timedelta(days=n) for n in range(DAYS - 1, -1, -1)]
        peak = max([by_day[d] for d in days] + [1])
        responses = [{"day": d.strftime("%d.%m"), "count": by_day[d]} for d in days]
        channels = services.channels
        missing = [
            self.t(key)
            for key, on in (
                ("panel.channel.telegram", channels.telegram),
                ("panel.channel.email_out", channels.email_out),
                ("panel.channel.mailbox", channels.mailbox),
            )
            if not on
        ]
        deadline = None
        if contest is not None:
            deadline = (contest.closes.astimezone(zone).date() - today).days
        self.render_page(
            "dashboard.html",
            responses=responses,
            peak=peak,
            total_responses=sum(r["count"] for r in responses),
            contest=contest.name.get(self.language) if contest else None,
            statuses=[
                {"label": status_label(ctx, s), "count": counts.get(s, 0), "status": s}
                for s in proposal_store.STATUSES
            ],
            deadline=deadline,
            threads=threads,
            queued=messages.get("pending", 0) + messages.get("sending", 0),
            failed=messages.get("failed", 0),
            missing=missing,
            planned=[
                {
                    "when": self.when(job.run_at),
                    "what": self.t(
                        f"schedule.kind.{job.kind}",
                        key=job.key,
                        title=plan_subject(
                            job,
                            surveys=services.surveys,
                            contest=services.contest,
                            language=self.language,
                        ),
                    ),
                }
                for job in planned[:UPCOMING]
            ],
        )


NAV = ("panel.nav.dashboard", "/")
ROUTES = [(r"/", Dashboard)]
