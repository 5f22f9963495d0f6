"""SIGKILL of the running bot in the middle of a proposal draft: the draft resumes."""

from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from storage import proposals
from storage.db import Store
from tests.conftest import CONTENT
from tests.e2e.conftest import wait_until
from tests.e2e.test_restart import BotProcess, bot_process  # noqa: F401 - fixture
from tests.e2e.test_survey_restart import outbox_settled
from tests.fakes.telegram_api import FakeTelegramServer

# Slow (a bot process killed and restarted): left out of `pytest -m "not slow"`.
pytestmark = pytest.mark.slow

USER = 7201


def open_contest(tmp_path: Path) -> Path:
    """A copy of the shipped content whose call for proposals is open now."""
    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    contest = content / "contest.yaml"
    text = re.sub(r"(?m)^opens: .*$", "opens: 2020-01-01 00:00", contest.read_text())
    contest.write_text(re.sub(r"(?m)^closes: .*$", "closes: 2099-12-31 23:59", text))
    return content


async def step(api: FakeTelegramServer, push, count: int = 1) -> list[dict]:  # noqa: ANN001
    already = len(api.sent(USER))
    push()
    sent = await asyncio.to_thread(api.wait_for_sent, USER, already + count, 30)
    return sent[already:]


def press(api: FakeTelegramServer, label: str):  # noqa: ANN201
    for message in reversed(api.sent(USER)):
        for row in message.get("buttons") or []:
            for button in row:
                if label in button["text"]:
                    return lambda: api.push_callback(USER, button["callback_data"])
    raise AssertionError(f"no button {label!r}")


async def test_proposal_draft_resumes_after_sigkill(
    sqlite_url: str,
    tmp_path: Path,
    fake_telegram: FakeTelegramServer,
    bot_process: BotProcess,  # noqa: F811
) -> None:
    api = fake_telegram
    bot_process.env["CONTENT_DIR"] = str(open_contest(tmp_path))
    bot_process.start()
    await step(api, lambda: api.push_message(USER, "/start"), 1)
    await step(api, press(api, "Tak, zgadzam"), 2)
    await step(api, lambda: api.push_message(USER, "/propose"), 2)
    await step(api, press(api, "Grupa nieformalna"))
    [third] = await step(api, lambda: api.push_message(USER, "Koło Gospodyń Wiejskich"))
    await wait_until(lambda: outbox_settled(sqlite_url), timeout=10)
    bot_process.kill()

    bot_process.start()
    resumed = await step(api, lambda: api.push_message(USER, "/propose"), 3)
    assert "Wracamy do twojego szkicu" in resumed[0]["text"]
    assert resumed[1]["text"] == third["text"]
    store = Store(sqlite_url)
    async with store.transaction() as session:
        [draft] = list(await session.scalars(select(proposals.Proposal)))
    await store.close()
    assert draft.status == "draft"
    assert draft.answers["wnioskodawca"] == "Koło Gospodyń Wiejskich"
