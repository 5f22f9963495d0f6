"""The inbox pages over real HTTP: the thread list, a thread, its attachments, and what a
coordinator does with it (reply over real SMTP, mark handled, link to or make a proposal).

Mail is stored as the IMAP watcher stores it (parsed, attachments written, received);
a reply goes through the outbox to the session's aiosmtpd server, as from the chat.
"""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bot.delivery import OutboxSender
from bot.mail.attachments import write_attachments
from bot.mail.parse import parse_mail
from bot.mail.smtp import SmtpTransport
from handlers.core.services import Channels
from handlers.mailbox.receiving import MailPolicy, receive_mail
from panel import inbox
from storage import mail as mail_store
from storage import proposals
from storage.mail import MailMessage, MailThread
from storage.models import OutboxMessage, PanelAudit
from tests.conftest import COORDINATOR_ID
from tests.mail.conftest import mail_settings
from tests.panel.conftest import Site, form_token, sign_in
from tests.servers.smtp import SmtpServer

NOW = datetime(2030, 6, 10, 10, 0, tzinfo=UTC)
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)
HOSTILE = '<script>alert("x")</script><img src=x onerror="alert(1)">'
PAGE = b"<html><body><script>alert(document.cookie)</script></body></html>"


def t(site: Site, key: str, **values: object) -> str:
    return site.service.services.translator.text("pl", key, **values)


def page_text(response: httpx.Response) -> str:
    return html.unescape(response.text)


def mail(
    sender: str,
    subject: str,
    text: str,
    *,
    name: str = "",
    html_body: str | None = None,
    files: list[tuple[str, str, bytes]] = (),  # type: ignore[assignment]
    number: int = 0,
) -> bytes:
    message = EmailMessage()
    message["From"] = f"{name} <{sender}>" if name else sender
    message["To"] = "dom.kultury@example.pl"
    message["Subject"] = subject
    message["Message-ID"] = f"<m{number}.{sender}>"
    message["Date"] = format_datetime(NOW - timedelta(hours=number))
    message.set_content(text)
    if html_body is not None:
        message.add_alternative(html_body, subtype="html")
    for filename, content_type, data in files:
        main, sub = content_type.split("/")
        message.add_attachment(data, maintype=main, subtype=sub, filename=filename)
    return message.as_bytes()


async def receive(site: Site, *raws: bytes) -> list[int]:
    """Store e-mails as the watcher does; the ids of their threads."""
    service = site.service
    mails = [parse_mail(raw) for raw in raws]
    for parsed in mails:
        write_attachments(parsed, service.services.data_dir)
    async with service.store.transaction() as session:
        result = await receive_mail(session, service.services, mails, MailPolicy(notify=False))
        rows = [await session.get(MailMessage, i) for i in result.stored]
        return [row.thread_id for row in rows if row is not None]


async def set_thread(site: Site, thread_id: int, **values: object) -> None:
    async with site.service.store.transaction() as session:
        thread = await session.get(MailThread, thread_id)
        assert thread is not None
        for name, value in values.items():
            setattr(thread, name, value)


async def latest_id(site: Site, thread_id: int) -> str:
    """The reply form's mark: the thread's latest message as the page showed it."""
    async with site.service.store.transaction() as session:
        return str(max(m.id for m in await mail_store.thread_messages(session, thread_id)))


async def audit_rows(site: Site) -> list[tuple[str, str | None]]:
    async with site.service.store.transaction() as session:
        return [(a.action, a.target) for a in await session.scalars(select(PanelAudit))]


@pytest.fixture
async def client(site: Site) -> AsyncIterator[httpx.AsyncClient]:
    """A coordinator signed in."""
    site.service.services.clock = lambda: NOW
    async with site.client() as client:
        await sign_in(client, site.link())
        yield client


async def test_threads_unhandled_first_then_newest_with_search_and_pages(
    site: Site, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new, done = await receive(
        site,
        mail("anna@example.pl", "Sala na próby chóru", "Czy jest wolna?", name="Anna Nowak"),
        mail("jan@example.pl", "Bilety na koncert", "Ile kosztują?", number=1),
        mail("ola@example.pl", "Dziękujemy za festyn", "Było pięknie.", number=2),
    )
    await set_thread(site, old, last_message_at=NOW - timedelta(days=3))
    await set_thread(site, new, last_message_at=NOW - timedelta(days=1))
    await set_thread(site, done, last_message_at=NOW, status="handled")

    listed = page_text(await client.get("/inbox"))
    # Unhandled first, newest first among them; the handled thread, though newest, last.
    assert listed.index("Bilety na koncert") < listed.index("Sala na próby chóru")
    assert listed.index("Sala na próby chóru") < listed.index("Dziękujemy za festyn")
    assert "Anna Nowak" in listed and t(site, "mail.state_handled") in listed

    by_name = page_text(await client.get("/inbox", params={"q": "nowak"}))
    assert "Sala na próby chóru" in by_name and "Bilety" not in by_name
    by_address = page_text(await client.get("/inbox", params={"q": "jan@example"}))
    assert "Bilety na koncert" in by_address and "Sala na" not in by_address
    by_subject = page_text(await client.get("/inbox", params={"q": "FESTYN"}))
    assert "Dziękujemy za festyn" in by_subject and "Bilety" not in by_subject
    nothing = page_text(await client.get("/inbox", params={"q": "100%_"}))
    assert t(site, "panel.inbox.empty") in nothing

    monkeypatch.setattr(inbox, "PAGE_SIZE", 2)
    first = page_text(await client.get("/inbox"))
    assert "Bilety" in first and "Sala na" in first and "festyn" not in first
    assert t(site, "panel.inbox.next") in first
    second = page_text(await client.get("/inbox", params={"page": "2"}))
    assert "Dziękujemy za festyn" in second and "Bilety" not in second
    assert t(site, "panel.inbox.previous") in second and t(site, "panel.inbox.next") not in second


async def test_a_thread_shows_safe_text_never_the_mails_html(
    site: Site, client: httpx.AsyncClient
) -> None:
    [thread_id] = await receive(
        site,
        mail(
            "obcy@example.com",
            f"Oferta {HOSTILE}",
            f"Treść z tagiem {HOSTILE}",
            html_body=f"<p>Kliknij</p>{HOSTILE}<a href='javascript:alert(2)'>tu</a>",
        ),
    )
    response = await client.get(f"/inbox/{thread_id}")
    assert response.status_code == 200
    assert "<script>" not in response.text and "<img src=x" not in response.text
    assert "javascript:" not in response.text and "Kliknij" not in response.text
    shown = page_text(response)
    assert f"Treść z tagiem {HOSTILE}" in shown  # the text, shown as text
    assert t(site, "mail.sender_unverified") in shown
    assert "script-src" not in response.headers["content-security-policy"]  # none allowed
    assert (await client.get(f"/inbox/{thread_id + 100}")).status_code == 404

    # A mail with nothing but HTML: its text, as the mailbox made it, not its markup.
    only_html = EmailMessage()
    only_html["From"] = "obcy@example.com"
    only_html["Subject"] = "Tylko HTML"
    only_html["Message-ID"] = "<html-only@example.com>"
    only_html.set_content(f"<p>Widoczny <b>tekst</b></p>{HOSTILE}", subtype="html")
    [html_thread] = await receive(site, only_html.as_bytes())
    response = await client.get(f"/inbox/{html_thread}")
    assert "Widoczny tekst" in page_text(response)
    assert "<script>" not in response.text and "<b>tekst" not in response.text
    assert "<img src=x" not in response.text


async def test_attachments_need_a_session_and_never_come_as_a_page(
    site: Site, client: httpx.AsyncClient
) -> None:
    [thread_id] = await receive(
        site,
        mail(
            "maria@example.pl",
            "Plakat",
            "W załączeniu.",
            files=[
                ("plakat.png", "image/png", PNG),
                ("strona.html", "text/html", PAGE),
                ("udaje.png", "image/png", PAGE),
            ],
        ),
    )
    async with site.service.store.transaction() as session:
        files = {
            row.filename: row.id
            for row in await session.scalars(select(inbox.store.MailAttachment))
        }
    page = await client.get(f"/inbox/{thread_id}")
    assert f'<img src="/inbox/files/{files["plakat.png"]}"' in page.text
    assert f'<img src="/inbox/files/{files["udaje.png"]}"' not in page.text

    picture = await client.get(f"/inbox/files/{files['plakat.png']}")
    assert picture.status_code == 200 and picture.content == PNG
    assert picture.headers["content-type"] == "image/png"
    assert picture.headers["content-disposition"].startswith("inline;")
    assert "sandbox" in picture.headers["content-security-policy"]
    assert picture.headers["x-content-type-options"] == "nosniff"
    for name in ("strona.html", "udaje.png"):
        served = await client.get(f"/inbox/files/{files[name]}")
        assert served.status_code == 200 and served.content == PAGE
        assert served.headers["content-type"] == "application/octet-stream"
        assert served.headers["content-disposition"].startswith("attachment;")
        assert "sandbox" in served.headers["content-security-policy"]
    async with site.client() as stranger:
        refused = await stranger.get(f"/inbox/files/{files['plakat.png']}")
        assert refused.status_code == 401 and PNG not in refused.content
    assert (await client.get(f"/inbox/files/{max(files.values()) + 1}")).status_code == 404


@pytest.fixture
async def sender(
    site: Site, smtp: SmtpServer, database_url: str, tmp_path: Path
) -> AsyncIterator[OutboxSender]:
    """E-mail configured, and the outbox sender that delivers it to aiosmtpd."""
    site.service.services.channels = Channels(telegram=True, email_out=True)
    transport = SmtpTransport(mail_settings(database_url, tmp_path, None, smtp))
    try:
        yield OutboxSender(site.service.store, {"email": transport})
    finally:
        await transport.close()


async def test_a_reply_is_queued_then_sent_over_smtp_and_the_thread_says_so(
    site: Site, client: httpx.AsyncClient, sender: OutboxSender, smtp: SmtpServer
) -> None:
    [thread_id] = await receive(
        site, mail("maria@example.pl", "Wynajem sali", "Czy sala jest wolna?", name="Maria")
    )
    page = page_text(await client.get(f"/inbox/{thread_id}"))
    to = t(site, "panel.inbox.reply_to", recipient="maria@example.pl", subject="Re: Wynajem sali")
    assert to in page
    assert f'name="after" value="{await latest_id(site, thread_id)}"' in page
    answer = "Dzień dobry, sala jest wolna w sobotę."
    form = {"text": answer, "after": await latest_id(site, thread_id), "_xsrf": form_token(page)}
    sent = await client.post(f"/inbox/{thread_id}/reply", data=form)
    assert sent.status_code == 200
    done = page_text(sent)
    assert t(site, "mail.reply_queued", recipient="maria@example.pl") in done
    assert t(site, "mail.state_queued") in done and t(site, "mail.state_sent") not in done
    # The same form posted again (a reload) sends nothing more, and keeps the text.
    again = await client.post(f"/inbox/{thread_id}/reply", data=form)
    assert again.status_code == 400
    assert t(site, "panel.inbox.thread_changed") in page_text(again) and answer in page_text(again)

    assert await sender.drain() == 1
    [received] = await smtp.await_messages(1)
    assert received.rcpt_tos == ["maria@example.pl"]
    assert received.message["Subject"] == "Re: Wynajem sali"
    assert received.message["In-Reply-To"] == "<m0.maria@example.pl>"
    assert received.text.replace("\r\n", "\n").startswith(answer + "\n\n")

    shown = page_text(await client.get(f"/inbox/{thread_id}"))
    assert t(site, "mail.state_sent") in shown and t(site, "mail.state_queued") not in shown
    assert answer in shown
    async with site.service.store.transaction() as session:
        thread = await session.get(MailThread, thread_id)
        assert thread is not None and thread.status == "handled"
        assert thread.handled_by == COORDINATOR_ID
    assert ("mail_reply", f"#{thread_id}") in await audit_rows(site)


async def test_a_reply_without_text_or_without_smtp_changes_nothing(
    site: Site, client: httpx.AsyncClient
) -> None:
    [thread_id] = await receive(site, mail("maria@example.pl", "Pytanie", "Czy?"))
    page = await client.get(f"/inbox/{thread_id}")
    assert t(site, "mail.reply_no_smtp") in page_text(page)  # no SMTP in these settings
    after = await latest_id(site, thread_id)
    refused = await client.post(
        f"/inbox/{thread_id}/reply",
        data={"text": "Tak.", "after": after, "_xsrf": form_token(page.text)},
    )
    assert refused.status_code == 400
    assert t(site, "mail.reply_no_smtp") in page_text(refused)
    site.service.services.channels = Channels(telegram=True, email_out=True)
    empty = await client.post(
        f"/inbox/{thread_id}/reply",
        data={"text": "  ", "after": after, "_xsrf": form_token(page.text)},
    )
    assert empty.status_code == 400 and t(site, "flow.invalid.empty") in page_text(empty)
    async with site.service.store.transaction() as session:
        assert (await session.scalars(select(OutboxMessage))).all() == []
        thread = await session.get(MailThread, thread_id)
        assert thread is not None and thread.status == "open" and thread.message_count == 1
    assert await audit_rows(site) == [("sign_in", None)]


async def test_mark_handled_is_audited_and_forgery_is_refused(
    site: Site, client: httpx.AsyncClient
) -> None:
    [thread_id] = await receive(site, mail("jan@example.pl", "Dziękuję", "Wszystko jasne."))
    page = await client.get(f"/inbox/{thread_id}")
    forged = await client.post(f"/inbox/{thread_id}/handled", data={})
    assert forged.status_code == 403
    forged_reply = await client.post(f"/inbox/{thread_id}/reply", data={"text": "x"})
    assert forged_reply.status_code == 403
    async with site.service.store.transaction() as session:
        thread = await session.get(MailThread, thread_id)
        assert thread is not None and thread.status == "open"

    done = await client.post(f"/inbox/{thread_id}/handled", data={"_xsrf": form_token(page.text)})
    assert done.status_code == 200
    assert t(site, "mail.handled", subject="Dziękuję") in page_text(done)
    assert t(site, "panel.inbox.mark_handled") not in page_text(done)
    async with site.service.store.transaction() as session:
        thread = await session.get(MailThread, thread_id)
        assert thread is not None and thread.status == "handled"
        assert thread.handled_by == COORDINATOR_ID
    assert ("mail_handled", f"#{thread_id}") in await audit_rows(site)


async def test_a_mail_becomes_a_proposal_and_another_is_linked_to_it(
    site: Site, client: httpx.AsyncClient
) -> None:
    first, second = await receive(
        site,
        mail(
            "kgw@example.pl",
            "Wniosek: Potańcówka pod lipami",
            "Zgłaszamy potańcówkę.",
            name="Koło Gospodyń",
            files=[("plakat.png", "image/png", PNG)],
        ),
        mail("kgw@example.pl", "Uzupełnienie", "Dosyłamy budżet.", number=1),
    )
    page = await client.get(f"/inbox/{first}")
    made = await client.post(f"/inbox/{first}/proposal", data={"_xsrf": form_token(page.text)})
    assert made.status_code == 200
    async with site.service.store.transaction() as session:
        contest = site.service.services.contest
        assert contest is not None
        [entry] = await proposals.of_contest(session, contest.slug)
        assert entry.status == proposals.SUBMITTED
        assert entry.answers[contest.title_field].startswith("Wniosek: Potańcówka")
        assert [a.name for a in await proposals.attachments(session, entry.id)] == ["plakat.png"]
        thread = await session.get(MailThread, first)
        assert thread is not None and thread.proposal_ref == str(entry.id)
        assert thread.status == "handled"
    shown = page_text(made)
    assert t(site, "mail.made", label=f"{entry.number} Wniosek: Potańcówka pod lipami") in shown
    assert f'href="/proposals/{entry.id}"' in made.text

    other = await client.get(f"/inbox/{second}")
    assert f'<option value="{entry.id}">' in other.text
    wrong = await client.post(
        f"/inbox/{second}/link", data={"proposal": "999", "_xsrf": form_token(other.text)}
    )
    assert wrong.status_code == 400
    assert t(site, "panel.inbox.no_such_proposal") in page_text(wrong)
    linked = await client.post(
        f"/inbox/{second}/link", data={"proposal": str(entry.id), "_xsrf": form_token(other.text)}
    )
    assert linked.status_code == 200
    async with site.service.store.transaction() as session:
        thread = await session.get(MailThread, second)
        assert thread is not None and thread.proposal_ref == str(entry.id)
        kinds = [h.kind for h in await proposals.history(session, entry.id)]
    assert "mail_linked" in kinds
    audited = await audit_rows(site)
    assert ("mail_proposal", f"#{first}") in audited and ("mail_linked", f"#{second}") in audited
