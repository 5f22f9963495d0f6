"""A budget line changed in Telegram: the line opens in place of the list, the change is
confirmed, and the stored budget has it."""

from __future__ import annotations

from sqlalchemy import select

from storage import proposals
from tests.e2e.conftest import LiveBot
from tests.e2e.test_proposal import USER, contest_bot, fill  # noqa: F401 - the fixture
from tests.harness import said


async def test_a_budget_line_changed_in_telegram(contest_bot: LiveBot) -> None:  # noqa: F811
    api = contest_bot.api
    await fill(contest_bot)
    await contest_bot.say(USER, "Nagłośnienie – 7000")
    await contest_bot.say(USER, "Poczęstunek – 2500")
    [opened] = await contest_bot.press(USER, "2. Poczęstunek")
    assert opened["method"] == "editMessageText"
    assert (
        said("proposal.line_prompt", number=2, line="Poczęstunek – 2\u00a0500\u00a0zł")
        in (opened["text"])
    )
    [asked] = await contest_bot.say(USER, "1800")
    assert said("proposal.line_change_yes") in [b["text"] for row in asked["buttons"] for b in row]
    changed, listed = await contest_bot.press(USER, said("proposal.line_change_yes"), count=2)
    assert said("proposal.line_changed", number=2) in changed["text"]
    assert "2. Poczęstunek – 1\u00a0800\u00a0zł" in listed["text"]
    async with contest_bot.service.store.transaction() as session:
        [stored] = list(await session.scalars(select(proposals.Proposal)))
    assert stored.budget[1] == {"item": "Poczęstunek", "amount": "1800.00"}
    assert len(api.sent(USER, "editMessageText")) == 1
