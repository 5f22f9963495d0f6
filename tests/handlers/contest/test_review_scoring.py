"""Scoring by two coordinators, the ranking and the selection, through the terminal
channel on a real store."""

from __future__ import annotations

from decimal import Decimal

from handlers.contest.buttons import ScoreShow
from storage import scores
from tests.conftest import COORDINATOR_ID
from tests.handlers.contest.review_helpers import (
    SECOND_COORDINATOR,
    coordinator,
    give_marks,
    make,
)
from tests.harness import ChatHarness, texts

# --- scoring, the ranking, the selection --------------------------------------------------


async def test_scoring_by_two_coordinators_ranks_with_scorers_and_spread(
    review_harness: ChatHarness,
) -> None:
    dance = await make(review_harness, title="Potańcówka", amounts=["8000"])
    cinema = await make(review_harness, title="Kino", amounts=["5000"], minutes=5)
    marta = coordinator(review_harness)
    jan = coordinator(review_harness, SECOND_COORDINATOR)
    await marta.send(f"/proposals {dance.number}")
    first = await marta.press("Oceń wniosek")
    assert "Kryterium 1 z 2: Zgodność z celami (waga 2)" in texts(first)
    await marta.press("5")
    done = await marta.press("3")
    assert "ocena wniosku KP-TEST-001 jest zapisana" in texts(done)
    assert "koordynator 900001: 4,33 z 5" in texts(done)
    await give_marks(jan, dance, [3, 3])
    await give_marks(marta, cinema, [4, 4])
    await give_marks(jan, cinema, [4, 4])

    ranking = texts(await marta.send("/ranking"))
    lines = [line for line in ranking.splitlines() if "KP-TEST" in line]
    # Dance: totals 13/15 and 9/15, mean 11/15 → 3,67; cinema 4,00 for both, no spread.
    assert lines[0].startswith("1. KP-TEST-002 „Kino” – 4,00 (oceniających: 2, rozrzut: 0,00)")
    assert lines[1].startswith(
        "2. KP-TEST-001 „Potańcówka” – 3,67 (oceniających: 2, rozrzut: 1,33)"
    )


async def test_scoring_again_replaces_the_earlier_mark(review_harness: ChatHarness) -> None:
    made = await make(review_harness)
    marta = coordinator(review_harness)
    await give_marks(marta, made, [1, 1])
    again = await marta.choose(ScoreShow(made.id, 0).pack())
    assert "Twoja obecna ocena: 1" in texts(again)
    await give_marks(marta, made, [5, 5])
    async with review_harness.service.store.transaction() as session:
        stored = await scores.of_proposal(session, made.id)
    assert sorted((s.criterion, s.value) for s in stored) == [("budzet", 5), ("cele", 5)]


async def test_select_budget_forces_a_lower_ranked_choice_and_confirm_stores_outcome(
    review_harness: ChatHarness,
) -> None:
    marta = coordinator(review_harness)
    made = {}
    for name, amount, mark in [
        ("A", "10000", 5),
        ("B", "9000", 4),
        ("C", "9000", 3),
        ("D", "2500", 2),
        ("E", "2000", 1),
    ]:
        made[name] = await make(review_harness, title=name, amounts=[amount])
        await give_marks(marta, made[name], [mark, mark])
    proposed = texts(await marta.send("/select"))
    assert "✅ 1. KP-TEST-001" in proposed and "✅ 3. KP-TEST-003" in proposed
    assert "▫️ 4. KP-TEST-004" in proposed and "✅ 5. KP-TEST-005" in proposed
    assert "Pominięte, bo nie mieszczą się już w budżecie: KP-TEST-004" in proposed
    assert "Wybrane: 4, na kwotę 30\u00a0000\u00a0zł" in proposed
    done = await marta.press("Zatwierdź wybór")
    assert "dofinansowane wnioski: 4" in texts(done)
    async with review_harness.service.store.transaction() as session:
        outcome = await scores.outcome(session, "test-2030")
    assert [(o.rank, o.selected, Decimal(o.amount)) for o in outcome] == [
        (1, True, Decimal("10000")),
        (2, True, Decimal("9000")),
        (3, True, Decimal("9000")),
        (4, False, Decimal("2500")),
        (5, True, Decimal("2000")),
    ]
    assert all(o.decided_by == COORDINATOR_ID for o in outcome)


async def test_select_adjusted_by_toggling_then_confirmed(review_harness: ChatHarness) -> None:
    marta = coordinator(review_harness)
    first = await make(review_harness, title="A", amounts=["10000"])
    second = await make(review_harness, title="B", amounts=["10000"])
    third = await make(review_harness, title="C", amounts=["10000"])
    for made, mark in ((first, 5), (second, 4), (third, 3)):
        await give_marks(marta, made, [mark, mark])
    await marta.send("/select")
    adjusted = texts(await marta.press(f"✅ {second.number}"))
    assert "zmieniony ręcznie" in adjusted and f"▫️ 2. {second.number}" in adjusted
    assert "mniej wniosków, niż przewiduje regulamin (co najmniej 3)" in adjusted
    await marta.press("Zatwierdź wybór")
    async with review_harness.service.store.transaction() as session:
        outcome = {o.proposal_id: o.selected for o in await scores.outcome(session, "test-2030")}
    assert outcome == {first.id: True, second.id: False, third.id: True}


async def test_select_over_budget_cannot_be_confirmed(review_harness: ChatHarness) -> None:
    marta = coordinator(review_harness)
    made = [await make(review_harness, title=t, amounts=["10000"]) for t in "ABCD"]
    for entry in made:
        await give_marks(marta, entry, [3, 3])
    proposed = texts(await marta.send("/select"))
    assert f"▫️ 4. {made[3].number}" in proposed
    over = texts(await marta.press(f"▫️ {made[3].number}"))
    assert "przekraczają budżet konkursu" in over
    refused = await marta.press("Zatwierdź wybór")
    assert "Nie można zatwierdzić" in texts(refused)
    async with review_harness.service.store.transaction() as session:
        assert await scores.outcome(session, "test-2030") == []
