"""A broadcast from the panel in a real browser, delivered by the running bot.

The bot runs for real (PTB against the fake Bot API, its scheduler and outbox
sender) with the panel in its process. A coordinator signs in with the link
from /panel, writes a message, sees the recipient count appear as the audience
is chosen and the preview of the message, sends it, and watches the list until
it says the sending finished; the residents' chats got the text. Skips as
`test_browser.py` does when chromium or Playwright is missing outside CI.
"""

from __future__ import annotations

from pathlib import Path

from storage import residents
from tests.e2e.conftest import LiveBot, live_bot  # noqa: F401 - the fixture
from tests.panel.test_browser import (  # noqa: F401 - fixtures
    database_url,
    live_bot_settings,
    screenshots,
    signed_in_page,
)

RESIDENTS = (9201, 9202)
TEXT = "W sobotę o 15:00 zapraszamy na festyn sąsiedzki pod lipami!"


async def test_a_coordinator_composes_previews_and_sends_a_broadcast(
    live_bot: LiveBot,  # noqa: F811
    screenshots: Path,  # noqa: F811
) -> None:
    from playwright.async_api import expect

    services = live_bot.service.services
    texts = services.translator

    def t(key: str, **values: object) -> str:
        return texts.text("pl", key, **values)

    async with live_bot.service.store.transaction() as session:
        for telegram_id in RESIDENTS:
            row = await residents.create_with_consent(
                session, telegram_id=telegram_id, name=None, language="pl"
            )
            row.subscribed = True
    async with signed_in_page(live_bot) as page:
        await page.get_by_role("link", name=t("panel.nav.broadcasts")).click()
        await page.get_by_role("link", name=t("panel.bc.new")).click()

        await page.get_by_label(t("panel.bc.text")).fill(TEXT)
        # The count button is for pages without the script; here the count comes live.
        await expect(page.get_by_role("button", name=t("panel.bc.count_button"))).to_be_hidden()
        await page.get_by_label(t("panel.bc.audience")).select_option("subscribers")
        count = t("panel.bc.count", count=2, chat=2, email=0)
        await expect(page.locator("#count")).to_have_text(count)
        await page.get_by_role("button", name=t("panel.preview")).click()
        preview = page.locator(".preview")
        await preview.wait_for()
        assert TEXT in await preview.inner_text()
        await page.screenshot(path=str(screenshots / "broadcast-1280.png"), full_page=True)
        await page.set_viewport_size({"width": 390, "height": 844})
        await page.screenshot(path=str(screenshots / "broadcast-390.png"), full_page=True)

        await page.get_by_role("button", name=t("panel.bc.send_now")).click()
        await expect(page.get_by_role("status")).to_contain_text(
            t("panel.bc.queued_notice", number=1)
        )
        # The list follows the sending by itself until it is done.
        done = t("panel.bc.state.done", sent=2, total=2)
        await expect(page.locator("#b1 [data-field=state]")).to_have_text(done, timeout=30_000)
        await page.screenshot(path=str(screenshots / "broadcasts-390.png"), full_page=True)

    for telegram_id in RESIDENTS:
        assert TEXT in live_bot.api.sent_texts(telegram_id)
