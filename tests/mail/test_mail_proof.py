"""Mail belongs to a person only when proven: a code e-mailed to the address and typed
back, or a reply to the contest's confirmation e-mail; a forged From: or a forged
Authentication-Results links nothing to anyone, and mail "from" ourselves is flagged
and never answered. Through the terminal channel and the real parse path, on both
stores."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import Service
from bot.mail.parse import parse_mail
from bot.mail.smtp import SmtpTransport
from handlers.mailbox.buttons import MailReply
from handlers.mailbox.content import load_mail_content
from handlers.mailbox.receiving import MailPolicy, receive_mail
from storage import mail as mail_store
from storage import proposals
from storage.mail import MailMessage
from storage.models import Resident
from tests.conftest import CONTENT, COORDINATOR_ID
from tests.handlers.contest.test_proposal import fill_form
from tests.handlers.contest_fixture import sample_contest
from tests.harness import ChatHarness, Person, texts, with_mail
from tests.mail.conftest import Recorder, mail_settings, outbox_rows, with_recorders
from tests.mail.proof import CODE, code_sent_to, prove_by_code
from tests.mail.test_mailbox import coordinator
from tests.servers.smtp import SmtpServer

PROVIDER = "mx.lokalnie.test"
CENTRE = "mediateka.kaliszpom@wp.pl"  # content/centre.yaml
NOW = datetime(2030, 5, 20, 10, 0, tzinfo=UTC)


@pytest.fixture
async def harness(database_url: str, tmp_path: Path) -> AsyncIterator[ChatHarness]:
    service = Service(with_mail(mail_settings(database_url, tmp_path, None, None), imap=False))
    service.services.contest = sample_contest()
    service.services.clock = lambda: NOW
    try:
        yield ChatHarness(service)
    finally:
        await service.close()


@pytest.fixture
def recorders(harness: ChatHarness) -> dict[str, Recorder]:
    return with_recorders(harness, ["telegram", "email"])


def raw_mail(
    sender: str,
    *,
    message_id: str,
    subject: str = "Pytanie o salę",
    body: str = "Dzień dobry, czy sala jest wolna w sobotę?",
    extra: str = "",
) -> bytes:
    head = (
        f"From: {sender}\r\nTo: {CENTRE}\r\nSubject: {subject}\r\n"
        f"Message-ID: <{message_id}>\r\nDate: Mon, 20 May 2030 09:00:00 +0200\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
    )
    return (head + extra + "\r\n" + body + "\r\n").encode()


async def receive(harness: ChatHarness, raw: bytes, **policy: object) -> MailMessage:
    service = harness.service
    policy.setdefault("authserv_id", PROVIDER)
    policy.setdefault("own_addresses", frozenset({CENTRE, "bot@lokalnie.test"}))
    async with service.store.transaction() as session:
        result = await receive_mail(
            session,
            service.services,
            [parse_mail(raw)],
            MailPolicy(**policy),  # type: ignore[arg-type]
        )
    await harness.sender.drain()
    async with service.store.transaction() as session:
        [stored_id] = result.stored
        message = await session.get(MailMessage, stored_id)
        assert message is not None
        return message


async def resident(harness: ChatHarness, user_id: int, name: str) -> Person:
    person = harness.person(user_id, name=name)
    await person.send("/start")
    await person.press("Tak, zgadzam")
    return person


async def resident_id(harness: ChatHarness, user_id: int) -> int:
    async with harness.service.store.transaction() as session:
        found = await session.scalar(select(Resident.id).where(Resident.telegram_id == user_id))
        assert found is not None
        return found


async def proven(harness: ChatHarness, user_id: int) -> list[str]:
    who = await resident_id(harness, user_id)
    async with harness.service.store.transaction() as session:
        return await mail_store.proven_addresses(session, who)


async def test_email_code_goes_by_smtp_and_typed_back_proves_the_address(
    database_url: str, tmp_path: Path, smtp: SmtpServer
) -> None:
    service = Service(mail_settings(database_url, tmp_path, None, smtp))
    harness = ChatHarness(service)
    transport = SmtpTransport(service.settings)
    harness.sender.transports["email"] = transport
    try:
        zofia = await resident(harness, 7101, "Zofia")
        asked = texts(await zofia.send("/email"))
        assert "Podaj adres e-mail" in asked
        sent = texts(await zofia.send("Zofia@Example.pl"))
        assert "Wysłaliśmy 6-cyfrowy kod na adres zofia@example.pl" in sent
        [received] = await smtp.await_messages(1)
        assert received.rcpt_tos == ["zofia@example.pl"]
        match = CODE.search(received.text)
        assert match is not None
        done = texts(await zofia.send(match.group(1)))
        assert "Adres zofia@example.pl potwierdzony" in done
        assert await proven(harness, 7101) == ["zofia@example.pl"]
        again = texts(await zofia.send("/email zofia@example.pl"))
        assert "jest już potwierdzony" in again
    finally:
        await transport.close()
        await service.close()


async def test_email_wrong_expired_and_exhausted_codes_are_answered_and_prove_nothing(
    harness: ChatHarness, recorders: dict[str, Recorder]
) -> None:
    jan = await resident(harness, 7102, "Jan")
    await jan.send("/email jan@example.pl")
    code = await code_sent_to(harness, "jan@example.pl")
    wrong = "000000" if code != "000000" else "111111"
    assert "Pozostałe próby: 4" in texts(await jan.send(wrong))
    assert "Kod ma 6 cyfr" in texts(await jan.send("12"))
    # Another code at once is refused: nobody's inbox fills with codes.
    assert "właśnie wysłany" in texts(await jan.send("jan@example.pl"))
    for left in (3, 2, 1):
        assert f"Pozostałe próby: {left}" in texts(await jan.send(wrong))
    assert "Zbyt wiele błędnych prób" in texts(await jan.send(wrong))
    assert "Nie czeka żaden kod" in texts(await jan.send(f"/email {code}"))
    assert await proven(harness, 7102) == []

    # A fresh code, typed after 30 minutes, has expired.
    harness.service.services.clock = lambda: NOW + timedelta(minutes=5)
    await jan.send("/email jan@example.pl")
    late = await code_sent_to(harness, "jan@example.pl")
    harness.service.services.clock = lambda: NOW + timedelta(minutes=36)
    assert "Kod wygasł" in texts(await jan.send(late))
    assert await proven(harness, 7102) == []


async def test_address_typed_in_a_proposal_links_no_mail_and_mydata_forget_skip_it(
    harness: ChatHarness, recorders: dict[str, Recorder]
) -> None:
    """The leak: typing someone's address into a proposal made their mail yours."""
    ewa = await resident(harness, 7103, "Ewa")
    await fill_form(ewa)  # types kgw@example.pl as the contact address
    message = await receive(harness, raw_mail("KGW <kgw@example.pl>", message_id="kgw-1@ex"))
    assert message.resident_id is None
    [card] = recorders["telegram"].texts(str(COORDINATOR_ID))
    assert "Nadawca niezweryfikowany" in card

    [export] = await ewa.send("/mydata")
    assert export.file is not None
    assert json.loads(export.file.content)["emails"] == []
    await ewa.send("/forget")
    await ewa.press("Tak")
    async with harness.service.store.transaction() as session:
        kept = await session.get(MailMessage, message.id)
    assert kept is not None and kept.erased_at is None and "sala" in kept.text


async def test_reply_to_contest_confirmation_proves_the_applicants_address(
    harness: ChatHarness, recorders: dict[str, Recorder]
) -> None:
    ewa = await resident(harness, 7104, "Ewa")
    await fill_form(ewa)
    await ewa.send("Nagłośnienie: 6000")
    await ewa.press("Gotowe – budżet")
    await ewa.press("Bez załączników – dalej")
    assert "KP-TEST-001" in texts(await ewa.press("Wyślij zgłoszenie"))
    [confirmation] = [
        r for r in await outbox_rows(harness.service, "email") if r.recipient == "kgw@example.pl"
    ]
    assert "Odpowiedz na tę wiadomość" in confirmation.payload["text"]
    sent_id = confirmation.payload["message_id"]

    # A reply naming our Message-ID but from another address proves nothing.
    other = raw_mail(
        "Obcy <obcy@example.pl>", message_id="r-0@ex", extra=f"In-Reply-To: <{sent_id}>\r\n"
    )
    assert (await receive(harness, other)).resident_id is None
    assert await proven(harness, 7104) == []

    reply = raw_mail(
        "KGW <KGW@example.pl>",
        message_id="r-1@ex",
        subject="Re: Zgłoszenie KP-TEST-001",
        body="tak",
        extra=f"In-Reply-To: <{sent_id}>\r\nReferences: <{sent_id}>\r\n",
    )
    message = await receive(harness, reply)
    assert await proven(harness, 7104) == ["kgw@example.pl"]
    assert message.resident_id == await resident_id(harness, 7104)
    later = await receive(harness, raw_mail("kgw@example.pl", message_id="k-2@ex"))
    assert later.resident_id == message.resident_id


async def test_forged_authentication_results_are_ignored_and_the_card_says_unverified(
    harness: ChatHarness, recorders: dict[str, Recorder]
) -> None:
    forged = "Authentication-Results: mx.evil.example; spf=pass smtp.mailfrom=example.pl\r\n"
    stranger = await receive(
        harness, raw_mail("Anna <anna@example.pl>", message_id="f-1@ex", extra=forged)
    )
    assert stranger.auth == {} and stranger.resident_id is None
    [card] = recorders["telegram"].texts(str(COORDINATOR_ID))
    assert "Nadawca niezweryfikowany" in card

    # A proven address in a forged From: is linked (it is the resident's address) but
    # not vouched for: the card warns, and the mail is not filed as their proposal.
    zofia = await resident(harness, 7105, "Zofia")
    await prove_by_code(harness, zofia, "zofia@example.pl")
    recorders["telegram"].delivered.clear()
    spoof = await receive(
        harness,
        raw_mail("Zofia <zofia@example.pl>", message_id="f-2@ex", subject="Wniosek", extra=forged),
    )
    assert spoof.auth == {}
    [card] = recorders["telegram"].texts(str(COORDINATOR_ID))
    assert "nie potwierdził, że tę wiadomość naprawdę wysłano" in card
    anna = await coordinator(harness)
    buttons = recorders["telegram"].buttons(str(COORDINATOR_ID))
    assert "powstał wniosek" in texts(await anna.choose(buttons["📝 Utwórz wniosek"]))
    async with harness.service.store.transaction() as session:
        [entry] = await session.scalars(select(proposals.Proposal))
    assert entry.resident_id is None and entry.answers["email"] == "zofia@example.pl"
    assert "Wniosek" not in texts(await zofia.send("/myproposals"))

    # Our provider's own verdict is trusted: no warning, and the proposal is hers.
    recorders["telegram"].delivered.clear()
    genuine = f"Authentication-Results: {PROVIDER}; spf=pass; dkim=pass\r\n"
    real = await receive(
        harness,
        raw_mail("Zofia <zofia@example.pl>", message_id="g-1@ex", subject="Dożynki", extra=genuine),
    )
    assert real.auth == {"spf": "pass", "dkim": "pass"}
    [card] = recorders["telegram"].texts(str(COORDINATOR_ID))
    assert "Adres potwierdzony przez osobę korzystającą z czatu: Zofia" in card
    assert "nie potwierdził" not in card and "niezweryfikowany" not in card
    buttons = recorders["telegram"].buttons(str(COORDINATOR_ID))
    await anna.choose(buttons["📝 Utwórz wniosek"])
    assert "Dożynki" in texts(await zofia.send("/myproposals"))


async def test_mail_from_our_own_address_is_flagged_never_acknowledged_nor_replied(
    harness: ChatHarness, recorders: dict[str, Recorder]
) -> None:
    content = load_mail_content(CONTENT)
    await receive(
        harness,
        raw_mail(f"Ośrodek <{CENTRE.upper()}>", message_id="own-1@ex"),
        acknowledgement=content,
    )
    assert await outbox_rows(harness.service, "email") == []  # no acknowledgement
    [card] = recorders["telegram"].texts(str(COORDINATOR_ID))
    assert f"nasz własny adres ({CENTRE})" in card
    anna = await coordinator(harness)
    buttons = recorders["telegram"].buttons(str(COORDINATOR_ID))
    refused = texts(await anna.choose(buttons["↩️ Odpowiedz"]))
    assert "Nie wysyłam odpowiedzi na nasz własny adres" in refused

    # MAIL_FROM is ours too, as is a Reply-To pointing back at us.
    recorders["telegram"].delivered.clear()
    await receive(
        harness, raw_mail("bot@lokalnie.test", message_id="own-2@ex"), acknowledgement=content
    )
    assert await outbox_rows(harness.service, "email") == []
    [card] = recorders["telegram"].texts(str(COORDINATOR_ID))
    assert "nasz własny adres (bot@lokalnie.test)" in card
    buttons = recorders["telegram"].buttons(str(COORDINATOR_ID))
    assert "nasz własny adres" in texts(await anna.choose(buttons["↩️ Odpowiedz"]))
    looped = await receive(
        harness,
        raw_mail("maria@example.pl", message_id="own-3@ex", extra=f"Reply-To: {CENTRE}\r\n"),
    )
    assert looped.automatic is None
    assert "nasz własny adres" in texts(await anna.choose(MailReply(looped.id).pack()))
