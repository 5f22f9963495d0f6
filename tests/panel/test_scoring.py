"""Scoring in the panel: a mark and a comment per criterion, blind until one's own are saved."""

from __future__ import annotations

import html

import httpx
from sqlalchemy import select

from storage import scores
from storage.models import PanelAudit
from tests.conftest import COORDINATOR_ID
from tests.handlers.review_fixture import submit_in
from tests.panel.conftest import Site, form_token, sign_in

SECOND = 900_002
FIRST_COMMENT = "Cele programu spełnione w całości."


def t(site: Site, key: str, **values: object) -> str:
    return site.service.services.translator.text("pl", key, **values)


async def post_marks(
    client: httpx.AsyncClient, proposal_id: int, marks: dict[str, object]
) -> httpx.Response:
    page = await client.get(f"/proposals/{proposal_id}")
    data = {"_xsrf": form_token(page.text), **{k: str(v) for k, v in marks.items()}}
    return await client.post(f"/proposals/{proposal_id}/scores", data=data)


async def test_the_second_scorer_sees_the_first_only_after_scoring(site: Site) -> None:
    services = site.service.services
    services.coordinator_ids = frozenset({COORDINATOR_ID, SECOND})
    assert services.contest is not None
    made = await submit_in(site.service.store, services.contest, title="Kino", amounts=["5000"])
    async with site.client() as first:
        await sign_in(first, site.link(COORDINATOR_ID))
        saved = await post_marks(
            first,
            made.id,
            {"mark_cele": 5, "comment_cele": FIRST_COMMENT, "mark_budzet": 3},
        )
        assert saved.status_code == 200
        assert t(site, "review.scored", number=made.number) in html.unescape(saved.text)
        assert "4,33" in html.unescape((await first.get("/proposals")).text)
    async with site.client() as second:
        await sign_in(second, site.link(SECOND))
        before = html.unescape((await second.get(f"/proposals/{made.id}")).text)
        assert t(site, "panel.scores_blind") in before
        assert FIRST_COMMENT not in before
        listed = html.unescape((await second.get("/proposals")).text)
        assert "4,33" not in listed  # the first scorer's weighted mark stays hidden
        after = await post_marks(second, made.id, {"mark_cele": 2, "mark_budzet": 2})
        shown = html.unescape(after.text)
        assert t(site, "panel.scores_blind") not in shown
        assert FIRST_COMMENT in shown
    async with site.service.store.transaction() as session:
        stored = await scores.of_proposal(session, made.id)
        audit = [(a.coordinator_id, a.action) for a in await session.scalars(select(PanelAudit))]
    assert {(s.coordinator_id, s.criterion, s.value, s.comment) for s in stored} == {
        (COORDINATOR_ID, "cele", 5, FIRST_COMMENT),
        (COORDINATOR_ID, "budzet", 3, None),
        (SECOND, "cele", 2, None),
        (SECOND, "budzet", 2, None),
    }
    assert (COORDINATOR_ID, "scored") in audit and (SECOND, "scored") in audit


async def test_a_missing_or_impossible_mark_saves_nothing(site: Site) -> None:
    contest = site.service.services.contest
    assert contest is not None
    made = await submit_in(site.service.store, contest, title="Kino", amounts=["5000"])
    async with site.client() as client:
        await sign_in(client, site.link())
        missing = await post_marks(client, made.id, {"mark_cele": 4})
        assert missing.status_code == 400
        assert t(site, "panel.score_every_criterion") in html.unescape(missing.text)
        # The first mark is fine, the second is off the scale: neither is kept.
        beyond = await post_marks(client, made.id, {"mark_cele": 4, "mark_budzet": 9})
        assert beyond.status_code == 400
    async with site.service.store.transaction() as session:
        assert await scores.of_proposal(session, made.id) == []
