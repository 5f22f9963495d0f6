"""The inbox in a real browser (Debian's chromium, headless, driven by Playwright).

The bot runs for real (PTB against the fake Bot API, the outbox sender with SMTP
to the session's aiosmtpd) with the panel in its own process. A coordinator
signs in from the link the bot sent, opens a mail thread, replies, and the reply
reaches the SMTP server; the thread then says it was sent.

Skips as `test_browser.py` does when chromium or Playwright is missing outside CI.
Screenshots go to PANEL_SCREENSHOTS when set, else to the test's temporary folder.
"""

from __future__ import annotations

import os
import time
from email.message import EmailMessage
from pathlib import Path

import pytest

from bot.mail.parse import parse_mail
from handlers.mailbox.receiving import MailPolicy, receive_mail
from tests.e2e.conftest import LiveBot, live_bot  # noqa: F401 - the fixture
from tests.panel.test_browser import free_port, signed_in_page
from tests.servers.smtp import SmtpServer

ANSWER = "Dzień dobry, sala jest wolna w sobotę od 10:00."


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    # One store is enough here: the store's side is covered by the HTTP tests on both.
    return sqlite_url


@pytest.fixture
def live_bot_settings(smtp: SmtpServer) -> dict[str, object]:
    return {
        "panel_port": free_port(),
        "smtp_host": smtp.host,
        "smtp_port": smtp.port,
        "smtp_security": "none",
        "mail_from": "Dom Kultury <bot@lokalnie.test>",
    }


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("PANEL_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def question() -> bytes:
    message = EmailMessage()
    message["From"] = "Maria Kowalska <maria@example.pl>"
    message["To"] = "dom.kultury@example.pl"
    message["Subject"] = "Wynajem sali na próbę chóru"
    message["Message-ID"] = "<sala-1@example.pl>"
    message.set_content("Czy sala jest wolna w sobotę?\n<b>Pozdrawiam</b>")
    return message.as_bytes()


async def test_a_coordinator_replies_to_a_mail_thread_and_it_reaches_smtp(
    live_bot: LiveBot,  # noqa: F811
    smtp: SmtpServer,
    screenshots: Path,
) -> None:

    services = live_bot.service.services
    texts = services.translator

    def t(key: str, **values: object) -> str:
        return texts.text("pl", key, **values)

    async with live_bot.service.store.transaction() as session:
        await receive_mail(session, services, [parse_mail(question())], MailPolicy(notify=False))

    async with signed_in_page(live_bot) as page:
        await page.get_by_role("link", name=t("panel.nav.inbox"), exact=True).click()
        await page.screenshot(path=str(screenshots / "inbox-1280.png"), full_page=True)
        await page.get_by_role("link", name="Wynajem sali na próbę chóru").click()
        await page.get_by_role("heading", name="Wynajem sali na próbę chóru").wait_for()
        assert "<b>Pozdrawiam</b>" in await page.locator(".message").first.inner_text()

        thread_url = page.url
        await page.get_by_label(t("panel.inbox.reply_text")).fill(ANSWER)
        await page.set_viewport_size({"width": 390, "height": 844})
        await page.screenshot(path=str(screenshots / "inbox-thread-390.png"), full_page=True)
        await page.get_by_role("button", name=t("panel.inbox.send_reply")).click()
        status = page.get_by_role("status")
        await status.wait_for()
        assert "maria@example.pl" in await status.inner_text()

        [received] = await smtp.await_messages(1)
        assert received.rcpt_tos == ["maria@example.pl"]
        assert received.message["Subject"] == "Re: Wynajem sali na próbę chóru"
        assert received.message["In-Reply-To"] == "<sala-1@example.pl>"
        assert received.text.replace("\r\n", "\n").startswith(ANSWER + "\n\n")

        # The sender marks the row sent just after the server took it: look again
        # until the page says so (bounded; the assertion is on what it says).
        sent = t("mail.state_sent")
        deadline = time.monotonic() + 15
        while True:
            await page.goto(thread_url)  # a GET: reloading would post the reply again
            badges = await page.locator(".badge").all_inner_texts()
            if sent in badges or time.monotonic() > deadline:
                break
        assert sent in badges
        assert t("mail.state_queued") not in badges
        await page.screenshot(path=str(screenshots / "inbox-sent-390.png"), full_page=True)
