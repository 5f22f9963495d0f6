"""The surveys pages in a real browser (Debian's chromium, headless, driven by Playwright).

A coordinator signs in through the link the bot sent, opens a survey's results,
keeps only the paper questionnaires, and downloads the XLSX export of them,
which opens in openpyxl with one row per paper questionnaire. Skips outside CI
as the other browser test does (`tests/panel/test_browser.py`).
"""

from __future__ import annotations

import re
from pathlib import Path

from openpyxl import load_workbook

from tests.conftest import COORDINATOR_ID
from tests.e2e.conftest import LiveBot, live_bot  # noqa: F401 - the fixture
from tests.panel.test_browser import (  # noqa: F401 - the fixtures
    CHROMIUM,
    database_url,
    live_bot_settings,
    screenshots,
)
from tests.panel.test_surveys import SLUG, TITLE, seed


async def test_a_coordinator_filters_a_surveys_results_and_downloads_the_export(
    live_bot: LiveBot,  # noqa: F811
    database_url: str,  # noqa: F811
    screenshots: Path,  # noqa: F811
) -> None:
    from playwright.async_api import async_playwright

    await seed(live_bot.service, database_url)
    texts = live_bot.service.services.translator

    def t(key: str, **values: object) -> str:
        return texts.text("pl", key, **values)

    [message] = await live_bot.say(COORDINATOR_ID, "/panel")
    found = re.search(r"http://\S+/signin\?token=\S+", message["text"])
    assert found, message["text"]

    async with async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = await browser.new_page(
                viewport={"width": 390, "height": 844}, accept_downloads=True
            )
            await page.goto(found.group(0))
            await page.get_by_role("button", name=t("panel.sign_in_button")).click()
            await page.get_by_role("heading", name=t("panel.nav.dashboard")).wait_for()

            await page.get_by_role("link", name=t("panel.nav.surveys"), exact=True).click()
            await page.get_by_role("link", name=TITLE).click()
            await page.get_by_role("heading", name=TITLE, level=1).wait_for()
            everyone = t("results.respondents", started=7, finished=6)
            assert everyone in await page.locator(".respondents").inner_text()
            await page.screenshot(path=str(screenshots / "survey-390.png"), full_page=True)

            await page.get_by_text(t("panel.surveys.filters")).click()
            await page.get_by_label(t("panel.surveys.channel.paper")).check()
            await page.get_by_role("button", name=t("panel.apply")).click()
            await page.wait_for_url(re.compile(r"channel=paper"))
            paper = t("results.respondents", started=2, finished=2)
            assert paper in await page.locator(".respondents").inner_text()
            await page.set_viewport_size({"width": 1280, "height": 900})
            await page.screenshot(path=str(screenshots / "survey-paper-1280.png"), full_page=True)

            async with page.expect_download() as started:
                await page.get_by_role("link", name=t("panel.surveys.export_xlsx")).click()
            download = await started.value
            assert download.suggested_filename == f"{SLUG}.xlsx"
            saved = screenshots / download.suggested_filename
            await download.save_as(saved)
        finally:
            await browser.close()

    book = load_workbook(saved)
    sheet = book[t("export.sheet_responses")]
    assert sheet.max_row == 2 + 2  # two header rows, the two paper questionnaires
