"""The panel in a real browser (Debian's chromium, headless, driven by Playwright).

The bot runs for real (PTB against the fake Bot API) with the panel in its own
process, as under `lokalnie run` with PANEL_PORT set. A coordinator sends /panel,
opens the link from the bot's message, signs in, opens a proposal, asks for
changes with a note, and the applicant's chat message reaches the fake Bot API.

Outside CI the test skips, with the reason, when chromium or Playwright is
missing (`scripts/ensure-test-servers` installs chromium under CI=true); under
CI=true it runs or fails. Screenshots at phone and desktop widths are written to
PANEL_SCREENSHOTS (a folder) when set, else to the test's temporary folder.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from storage import proposals, scores
from tests.conftest import COORDINATOR_ID
from tests.e2e.conftest import LiveBot, live_bot  # noqa: F401 - the fixture
from tests.e2e.test_telegram import consent
from tests.handlers.contest_fixture import sample_contest
from tests.handlers.review_fixture import submit_in

# Debian's package; another system's chromium on the PATH does as well.
CHROMIUM = "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else shutil.which("chromium")
APPLICANT = 9101
NOW = datetime(2030, 6, 10, 10, 0, tzinfo=UTC)
NOTE = "Proszę dopisać, kto poprowadzi tańce."


def _why_not() -> str | None:
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    if CHROMIUM is None:
        return "chromium is not installed (apt-get install chromium)"
    return None


missing = _why_not()
if missing and os.environ.get("CI") != "true":
    pytest.skip(missing, allow_module_level=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.asynccontextmanager
async def signed_in_page(live_bot: LiveBot) -> AsyncIterator[Any]:  # noqa: F811
    """A desktop-sized chromium page signed in as the coordinator, from the link the
    bot sent in reply to /panel, showing the dashboard."""
    from playwright.async_api import async_playwright

    def t(key: str) -> str:
        return live_bot.service.services.translator.text("pl", key)

    [message] = await live_bot.say(COORDINATOR_ID, "/panel")
    found = re.search(r"http://\S+/signin\?token=\S+", message["text"])
    assert found, message["text"]
    async with async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            await page.goto(found.group(0))
            await page.get_by_role("button", name=t("panel.sign_in_button")).click()
            await page.get_by_role("heading", name=t("panel.nav.dashboard")).wait_for()
            yield page
        finally:
            await browser.close()


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    # One store is enough here: the store's side is covered by the HTTP tests on both.
    return sqlite_url


@pytest.fixture
def live_bot_settings() -> dict[str, object]:
    return {"panel_port": free_port()}


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("PANEL_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def test_a_coordinator_signs_in_from_the_chat_and_asks_for_changes(
    live_bot: LiveBot,  # noqa: F811
    screenshots: Path,
) -> None:

    services = live_bot.service.services
    services.contest = sample_contest()
    services.clock = lambda: NOW
    texts = services.translator

    def t(key: str, **values: object) -> str:
        return texts.text("pl", key, **values)

    await consent(live_bot, APPLICANT)
    made = await submit_in(
        live_bot.service.store,
        services.contest,
        title="Potańcówka pod lipami",
        amounts=["6000"],
        telegram_id=APPLICANT,
        channel="telegram",
    )

    async with signed_in_page(live_bot) as page:
        await page.screenshot(path=str(screenshots / "dashboard-1280.png"), full_page=True)

        await page.get_by_role("link", name=t("panel.nav.proposals"), exact=True).click()
        await page.get_by_role("link", name=made.number).click()
        await page.get_by_role("heading", name=re.compile("Potańcówka pod lipami")).wait_for()

        # Scoring: a mark and a comment per criterion; the page then shows all marks.
        marks = page.locator("select[name^=mark_]")
        criteria = await marks.count()
        assert criteria == len(services.contest.criteria)
        for n in range(criteria):
            await marks.nth(n).select_option(index=1)  # the lowest point
            await page.locator("textarea[name^=comment_]").nth(n).fill(f"Uwaga {n + 1}")
        await page.get_by_role("button", name=t("panel.save_scores")).click()
        await page.get_by_role("heading", name=t("panel.all_scores")).wait_for()
        # One's own comments stay in the form; the marks of all are summed up.
        assert await page.locator("textarea[name^=comment_]").first.input_value() == "Uwaga 1"

        await page.get_by_label(t("panel.new_status")).select_option(proposals.CHANGES_REQUESTED)
        await page.get_by_label(t("panel.edit_until_field")).fill("2030-06-20")
        await page.get_by_label(t("panel.note")).fill(NOTE)
        await page.get_by_role("button", name=t("panel.preview")).click()
        preview = page.locator(".preview")
        await preview.wait_for()
        assert NOTE in await preview.inner_text()
        await page.screenshot(path=str(screenshots / "proposal-1280.png"), full_page=True)
        await page.set_viewport_size({"width": 390, "height": 844})
        await page.screenshot(path=str(screenshots / "proposal-390.png"), full_page=True)

        already = len(live_bot.api.sent(APPLICANT))
        await page.get_by_role("button", name=t("panel.send")).click()
        await page.get_by_role("status").wait_for()
        assert "kgw@example.pl" in await page.get_by_role("status").inner_text()
        for name in ("proposals", "ranking"):
            await page.get_by_role("link", name=t(f"panel.nav.{name}"), exact=True).click()
            await page.screenshot(path=str(screenshots / f"{name}-390.png"), full_page=True)

    [told] = await live_bot.replies(APPLICANT, already, 1)
    assert "Prosimy o poprawki." in told["text"]
    assert NOTE in told["text"]
    async with live_bot.service.store.transaction() as session:
        marked = await scores.of_proposal(session, made.id)
        assert len(marked) == len(services.contest.criteria)
        assert {m.comment for m in marked} == {f"Uwaga {n + 1}" for n in range(len(marked))}
        stored = await proposals.get(session, made.id)
    assert stored is not None and stored.status == proposals.CHANGES_REQUESTED
