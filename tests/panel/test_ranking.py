"""The ranking and the selection in the panel: the chat's numbers, rules and confirmation."""

from __future__ import annotations

import html

from sqlalchemy import select

from storage import scores
from storage.models import PanelAudit
from tests.conftest import COORDINATOR_ID
from tests.handlers.review_fixture import Made, submit_in
from tests.panel.conftest import Site, form_token, sign_in


def t(site: Site, key: str, **values: object) -> str:
    return site.service.services.translator.text("pl", key, **values)


async def four_scored(site: Site) -> list[Made]:
    contest = site.service.services.contest
    assert contest is not None
    made = []
    for minutes, (title, amount, mark) in enumerate(
        (
            ("Potańcówka", "10000", 5),
            ("Kino", "9000", 4),
            ("Warsztaty", "9000", 3),
            ("Festyn", "2500", 2),
        )
    ):
        one = await submit_in(
            site.service.store, contest, title=title, amounts=[amount], minutes=minutes
        )
        async with site.service.store.transaction() as session:
            for criterion in ("cele", "budzet"):
                await scores.set_score(
                    session,
                    proposal_id=one.id,
                    coordinator_id=COORDINATOR_ID,
                    criterion=criterion,
                    value=mark,
                )
        made.append(one)
    return made


async def test_the_selection_is_proposed_recounted_and_confirmed(site: Site) -> None:
    first, second, third, fourth = await four_scored(site)
    async with site.client() as client:
        await sign_in(client, site.link())
        page = await client.get("/ranking")
        shown = html.unescape(page.text)
        # 10 000 + 9 000 + 9 000 leaves 2 000: the festival (2 500) is not proposed.
        total = t(
            site,
            "review.select_total",
            count=3,
            total="28\u00a0000\u00a0zł",
            budget="30\u00a0000\u00a0zł",
            remaining="2\u00a0000\u00a0zł",
        )
        assert total in shown
        for made in (first, second, third):
            assert f'value="{made.id}" id="chosen-{made.id}" checked' in page.text
        assert f'value="{fourth.id}" id="chosen-{fourth.id}">' in page.text

        everything = [first.id, second.id, third.id, fourth.id]
        recount = await client.get("/ranking", params={"chosen": everything, "recount": "1"})
        assert t(site, "review.select_over_budget") in html.unescape(recount.text)
        xsrf = form_token(page.text)
        refused = await client.post("/ranking", data={"chosen": everything, "_xsrf": xsrf})
        assert t(site, "review.select_refused_budget") in html.unescape(refused.text)
        async with site.service.store.transaction() as session:
            assert await scores.outcome(session, "test-2030") == []

        chosen = [first.id, second.id, fourth.id]
        done = await client.post("/ranking", data={"chosen": chosen, "_xsrf": xsrf})
        assert t(site, "review.select_done", count=3, total="21\u00a0500\u00a0zł") in html.unescape(
            done.text
        )
    async with site.service.store.transaction() as session:
        outcome = await scores.outcome(session, "test-2030")
        audit = [(a.action, a.detail) for a in await session.scalars(select(PanelAudit))]
    assert {o.proposal_id for o in outcome if o.selected} == set(chosen)
    assert ("selection", {"selected": 3}) in audit


async def test_the_ranking_hides_scores_until_ones_own_are_in(site: Site) -> None:
    second = 900_002
    site.service.services.coordinator_ids = frozenset({COORDINATOR_ID, second})
    await four_scored(site)
    async with site.client() as client:
        await sign_in(client, site.link(second))
        shown = html.unescape((await client.get("/ranking")).text)
    assert "5,00" not in shown and t(site, "panel.scores_blind") in shown
    async with site.client() as client:
        await sign_in(client, site.link())
        assert "5,00" in html.unescape((await client.get("/ranking")).text)
