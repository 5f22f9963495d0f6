"""The coordinators' side of the mailbox, through the terminal channel on a real store:
notifications, /inbox, mark handled, the reply flow, the contest's buttons, /mydata, /forget."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import Service
from bot.config import Settings
from bot.mail.attachments import write_attachments
from bot.mail.parse import parse_mail
from handlers.core.context import Context
from handlers.mailbox import bridge, cards
from handlers.mailbox.bridge import MailForProposal
from handlers.mailbox.buttons import MailDone, MailMake, MailReply
from handlers.mailbox.receiving import MailPolicy, receive_mail
from storage import mail as mail_store
from storage.mail import MailMessage, MailThread
from storage.models import Resident
from tests.conftest import COORDINATOR_ID
from tests.handlers.contest_fixture import sample_contest
from tests.harness import ChatHarness, Person, said, texts, with_mail
from tests.mail import corpus
from tests.mail.conftest import Recorder, outbox_rows, with_recorders
from tests.mail.proof import prove_by_code


@pytest.fixture
async def harness(settings: Settings) -> AsyncIterator[ChatHarness]:
    service = Service(with_mail(settings))
    try:
        yield ChatHarness(service)
    finally:
        await service.close()


@pytest.fixture
def recorders(harness: ChatHarness) -> dict[str, Recorder]:
    return with_recorders(harness, ["telegram", "email"])


async def receive(harness: ChatHarness, *raws: bytes, **policy: object) -> list[int]:
    service = harness.service
    mails = [parse_mail(raw) for raw in raws]
    for mail in mails:
        write_attachments(mail, service.settings.data_dir)
    async with service.store.transaction() as session:
        result = await receive_mail(session, service.services, mails, MailPolicy(**policy))  # type: ignore[arg-type]
    await harness.sender.drain()
    return result.stored


async def coordinator(harness: ChatHarness) -> Person:
    person = harness.person(COORDINATOR_ID, coordinator=True, name="Koordynatorka")
    await person.send("/start")
    await person.press("Tak, zgadzam")
    return person


async def _thread(harness: ChatHarness, thread_id: int) -> MailThread:
    async with harness.service.store.transaction() as session:
        thread = await session.get(MailThread, thread_id)
        assert thread is not None
        return thread


async def test_notification_card_buttons_lead_to_reply_and_handled(
    harness: ChatHarness, recorders: dict[str, Recorder]
) -> None:
    await receive(harness, corpus.utf8_thunderbird().raw)
    [card] = recorders["telegram"].texts(str(COORDINATOR_ID))
    assert card.startswith("📧 Nowy e-mail\nOd: Zofia Łukasiewicz <zofia@example.pl>")
    buttons = recorders["telegram"].buttons(str(COORDINATOR_ID))
    # The shipped content has a contest, so an e-mail can also become a proposal.
    assert list(buttons) == [
        "↩️ Odpowiedz",
        "✔️ Załatwione",
        "🔗 Powiąż z wnioskiem",
        "📝 Utwórz wniosek",
    ]

    anna = await coordinator(harness)
    replies = await anna.choose(buttons["✔️ Załatwione"])
    assert "oznaczony jako załatwiony" in texts(replies)
    again = await anna.choose(buttons["✔️ Załatwione"])
    assert "już oznaczony" in texts(again)


async def test_inbox_lists_open_threads_and_shows_one_on_press(
    harness: ChatHarness, recorders: dict[str, Recorder]
) -> None:
    anna = await coordinator(harness)
    assert texts(await anna.send("/inbox")) == said("mail.inbox_empty")
    await receive(harness, *corpus.conversation())
    await receive(harness, corpus.iso_8859_2_qp().raw)

    [listing] = await anna.send("/inbox")
    assert "Niezałatwione wątki: 2" in listing.text
    labels = [b.label for row in listing.buttons for b in row]
    # Newest first (Józef's e-mail is dated December 2025, Maria's have no date: now).
    assert "Maria: Wynajem sali na spotkanie" in labels[0]
    # The whole line in the text; the button cut at a word to fit a phone.
    assert "• 02.12 Józef Kowalczyk: Zgłoszenie: świetlica" in listing.text
    assert labels[1].startswith("02.12 Józef Kowalczyk:") and labels[1].endswith("…")
    [card] = await anna.press("Maria")
    assert "Nowa wiadomość w wątku (wiadomości w wątku: 3)" in card.text
    assert "Mój program poczty zgubił nagłówki." in card.text

    await anna.press("Załatwione")
    [listing] = await anna.send("/inbox")
    assert "Niezałatwione wątki: 1" in listing.text


async def test_handled_thread_reopened_by_a_new_message(
    harness: ChatHarness, recorders: dict[str, Recorder]
) -> None:
    first, second, _third = corpus.conversation()
    [message_id] = await receive(harness, first)
    anna = await coordinator(harness)
    await anna.choose(MailDone(await _thread_of(harness, message_id)).pack())
    await receive(harness, second)
    thread = await _thread(harness, await _thread_of(harness, message_id))
    assert (thread.status, thread.message_count) == ("open", 2)


async def _thread_of(harness: ChatHarness, message_id: int) -> int:
    async with harness.service.store.transaction() as session:
        message = await session.get(MailMessage, message_id)
        assert message is not None
        return message.thread_id


async def test_reply_typed_text_previewed_then_queued_as_threaded_email(
    harness: ChatHarness, recorders: dict[str, Recorder]
) -> None:
    _first, second, _third = corpus.conversation()
    [message_id] = await receive(harness, second)
    anna = await coordinator(harness)

    [prompt] = await anna.choose(MailReply(message_id).pack())
    assert "Napisz odpowiedź do maria@example.pl" in prompt.text
    [preview] = await anna.send("Sala jest wolna w sobotę od 10:00.\nBcc: ktos@example.pl")
    assert "Temat: Re: Wynajem sali na spotkanie" in preview.text
    assert await outbox_rows(harness.service, "email") == []
    [done] = await anna.press("Wyślij")
    assert done.text == said("mail.reply_queued", recipient="maria@example.pl")

    [(recipient, payload)] = recorders["email"].delivered
    assert recipient == "maria@example.pl"
    assert payload["subject"] == "Re: Wynajem sali na spotkanie"
    assert payload["in_reply_to"] == "thread-2.maria@example.pl"
    assert payload["references"] == ["thread-1.maria@example.pl", "thread-2.maria@example.pl"]
    assert payload["text"].startswith("Sala jest wolna w sobotę od 10:00.\nBcc: ktos@example.pl")
    assert "> Jeszcze jedno pytanie." in payload["text"]
    async with harness.service.store.transaction() as session:
        outgoing = await mail_store.by_message_id(session, payload["message_id"])
        assert outgoing is not None and outgoing.direction == "out"
        assert outgoing.author_id == COORDINATOR_ID
        thread = await session.get(MailThread, outgoing.thread_id)
    assert thread is not None and (thread.status, thread.message_count) == ("handled", 2)


async def test_reply_cancel_button_sends_nothing(
    harness: ChatHarness, recorders: dict[str, Recorder]
) -> None:
    [message_id] = await receive(harness, corpus.utf8_thunderbird().raw)
    anna = await coordinator(harness)
    await anna.choose(MailReply(message_id).pack())
    await anna.send("Może jednak nie.")
    [cancelled] = await anna.press("Nie wysyłaj")
    assert "nie została wysłana" in cancelled.text
    stale = await anna.press("Wyślij")
    assert "nieaktualny" in texts(stale)
    assert await outbox_rows(harness.service, "email") == []


async def test_reply_cancel_command_leaves_the_flow(
    harness: ChatHarness, recorders: dict[str, Recorder]
) -> None:
    [message_id] = await receive(harness, corpus.utf8_thunderbird().raw)
    anna = await coordinator(harness)
    await anna.choose(MailReply(message_id).pack())
    assert "nie została wysłana" in texts(await anna.send("/cancel"))
    assert "Nie rozumiem tej wiadomości" in texts(await anna.send("Zwykły tekst"))
    assert await outbox_rows(harness.service, "email") == []


async def test_reply_coordinator_who_never_started_still_replies(
    harness: ChatHarness, recorders: dict[str, Recorder]
) -> None:
    [message_id] = await receive(harness, corpus.utf8_thunderbird().raw)
    newcomer = harness.person(COORDINATOR_ID, coordinator=True)
    [prompt] = await newcomer.choose(MailReply(message_id).pack())
    assert "Napisz odpowiedź do zofia@example.pl" in prompt.text
    await newcomer.send("Tak, są wolne miejsca.")
    await newcomer.press("Wyślij")
    [(recipient, _payload)] = recorders["email"].delivered
    assert recipient == "zofia@example.pl"


async def test_mail_buttons_pressed_by_resident_refused(
    harness: ChatHarness, recorders: dict[str, Recorder]
) -> None:
    [message_id] = await receive(harness, corpus.utf8_thunderbird().raw)
    resident = harness.person(4242)
    await resident.send("/start")
    await resident.press("Tak, zgadzam")
    replies = await resident.choose(MailReply(message_id).pack())
    assert "tylko dla koordynatorów" in texts(replies)
    assert "tylko dla koordynatorów" in texts(await resident.send("/inbox"))


async def test_receive_mail_sender_who_proved_the_address_is_linked(
    harness: ChatHarness, recorders: dict[str, Recorder]
) -> None:
    zofia = harness.person(5151, name="Zofia")
    await zofia.send("/start")
    await zofia.press("Tak, zgadzam")
    await prove_by_code(harness, zofia, "Zofia@Example.pl")
    async with harness.service.store.transaction() as session:
        resident = await session.scalar(select(Resident).where(Resident.telegram_id == 5151))
        assert resident is not None
        resident_id = resident.id

    [message_id] = await receive(harness, corpus.utf8_thunderbird().raw)

    async with harness.service.store.transaction() as session:
        message = await session.get(MailMessage, message_id)
        assert message is not None and message.resident_id == resident_id
    [card] = recorders["telegram"].texts(str(COORDINATOR_ID))
    assert "Adres potwierdzony przez osobę korzystającą z czatu: Zofia" in card
    assert "niezweryfikowany" not in card


async def test_receive_mail_address_only_typed_is_unverified_and_linked_to_nobody(
    harness: ChatHarness, recorders: dict[str, Recorder]
) -> None:
    """An address a resident merely gave (here their contact e-mail) proves nothing."""
    zofia = harness.person(5152, name="Zofia")
    await zofia.send("/start")
    await zofia.press("Tak, zgadzam")
    async with harness.service.store.transaction() as session:
        resident = await session.scalar(select(Resident).where(Resident.telegram_id == 5152))
        assert resident is not None
        resident.email = "zofia@example.pl"

    [message_id] = await receive(harness, corpus.utf8_thunderbird().raw)

    async with harness.service.store.transaction() as session:
        message = await session.get(MailMessage, message_id)
        assert message is not None and message.resident_id is None
        thread = await session.get(MailThread, message.thread_id)
        assert thread is not None and thread.resident_id is None
    [card] = recorders["telegram"].texts(str(COORDINATOR_ID))
    assert "Nadawca niezweryfikowany" in card and "Zofia\n" not in card.split("Od:")[0]


async def test_receive_mail_rolled_back_leaves_neither_mail_nor_notification(
    harness: ChatHarness,
) -> None:
    service = harness.service
    with pytest.raises(RuntimeError):
        async with service.store.transaction() as session:
            policy = MailPolicy()
            await receive_mail(
                session, service.services, [parse_mail(corpus.utf8_thunderbird().raw)], policy
            )
            raise RuntimeError("killed before the commit")
    assert await outbox_rows(service) == []
    async with service.store.transaction() as session:
        assert await mail_store.known_message_ids(session, ["utf8-1@example.pl"]) == set()


class FakeContest:
    """What handlers/contest/proposal.py will provide; records what the mailbox gave it."""

    def __init__(self) -> None:
        self.linked: list[tuple[MailForProposal, str]] = []
        self.created: list[MailForProposal] = []

    async def candidates(self, ctx: Context, mail: MailForProposal) -> list[tuple[str, str]]:
        return [("17", "#2026/17 Warsztaty ceramiki"), ("18", "#2026/18 Festyn")]

    async def link(self, ctx: Context, mail: MailForProposal, ref: str) -> str | None:
        self.linked.append((mail, ref))
        return "#2026/18 Festyn"

    async def create(self, ctx: Context, mail: MailForProposal) -> tuple[str, str] | None:
        self.created.append(mail)
        return "19", "#2026/19 Dożynki KGW"


async def test_proposal_buttons_with_contest_bridge_link_and_create(
    harness: ChatHarness, recorders: dict[str, Recorder], monkeypatch: pytest.MonkeyPatch
) -> None:
    contest = FakeContest()
    monkeypatch.setattr(bridge, "PROPOSAL_FROM_MAIL", [contest])
    harness.service.services.contest = sample_contest()  # buttons need a contest to fill
    [message_id] = await receive(harness, corpus.outlook_alternative_with_attachments().raw)
    buttons = recorders["telegram"].buttons(str(COORDINATOR_ID))
    assert "🔗 Powiąż z wnioskiem" in buttons and "📝 Utwórz wniosek" in buttons

    anna = await coordinator(harness)
    [pick] = await anna.choose(buttons["🔗 Powiąż z wnioskiem"])
    assert [b.label for row in pick.buttons for b in row] == [
        "#2026/17 Warsztaty ceramiki",
        "#2026/18 Festyn",
    ]
    [linked] = await anna.press("Festyn")
    assert "powiązana z wnioskiem #2026/18 Festyn" in linked.text
    [made] = await anna.choose(buttons["📝 Utwórz wniosek"])
    assert "powstał wniosek #2026/19 Dożynki KGW" in made.text

    [(mail, ref)] = contest.linked
    assert (mail.message_id, ref) == (message_id, "18")
    [mail] = contest.created
    assert mail.sender_address == "kgw@example.pl" and "w załączniku wniosek." in mail.text
    files = {f.name: f for f in mail.attachments}
    pdf = files["Wniosek – Koło Gospodyń Wiejskich.pdf"]
    assert pdf.path is not None
    assert (harness.service.settings.data_dir / pdf.path).read_bytes().startswith(b"%PDF")
    thread = await _thread(harness, mail.thread_id)
    assert (thread.proposal_ref, thread.status) == ("19", "handled")


async def test_proposal_buttons_hidden_without_contest_bridge(
    harness: ChatHarness, recorders: dict[str, Recorder], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bridge, "PROPOSAL_FROM_MAIL", [])
    [message_id] = await receive(harness, corpus.utf8_thunderbird().raw)
    assert "🔗 Powiąż z wnioskiem" not in recorders["telegram"].buttons(str(COORDINATOR_ID))
    anna = await coordinator(harness)
    replies = await anna.choose(MailMake(message_id).pack())
    assert "nieaktualny" in texts(replies)


async def _resident_with_email(harness: ChatHarness, user_id: int, email: str) -> Person:
    person = harness.person(user_id)
    await person.send("/start")
    await person.press("Tak, zgadzam")
    await prove_by_code(harness, person, email)
    return person


async def test_mydata_includes_the_residents_emails(
    harness: ChatHarness, recorders: dict[str, Recorder]
) -> None:
    kgw = await _resident_with_email(harness, 6161, "kgw@example.pl")
    await receive(harness, corpus.outlook_alternative_with_attachments().raw)
    await receive(harness, corpus.utf8_thunderbird().raw)  # somebody else's

    [export] = await kgw.send("/mydata")
    assert export.file is not None
    import json

    data = json.loads(export.file.content)
    [email] = data["emails"]
    assert email["subject"] == "Wniosek KGW – dożynki"
    assert email["attachments"] == [
        "Wniosek – Koło Gospodyń Wiejskich.pdf",
        "Budżet inicjatywy.docx",
    ]


async def test_forget_erases_mail_content_and_attachment_files(
    harness: ChatHarness, recorders: dict[str, Recorder]
) -> None:
    kgw = await _resident_with_email(harness, 6262, "kgw@example.pl")
    [message_id] = await receive(harness, corpus.outlook_alternative_with_attachments().raw)
    data_dir: Path = harness.service.settings.data_dir
    files = list((data_dir / "mail" / "attachments").rglob("*"))
    assert any(f.is_file() for f in files)

    await kgw.send("/forget")
    await kgw.press("Tak")

    async with harness.service.store.transaction() as session:
        message = await session.get(MailMessage, message_id)
        assert message is not None
        attachments = await mail_store.attachments_of(session, [message_id])
        thread = await session.get(MailThread, message.thread_id)
    assert (message.text, message.subject, message.from_address, message.raw) == ("", "", "", None)
    assert message.erased_at is not None
    assert message.message_id == "outlook-1@EXCH.example.pl"  # not imported again
    assert attachments == {}
    assert thread is not None and thread.subject == ""
    assert not any(f.is_file() for f in (data_dir / "mail" / "attachments").rglob("*"))
    # Receiving the same mail again (a resync) does not bring it back.
    assert await receive(harness, corpus.outlook_alternative_with_attachments().raw) == []


async def test_report_delivery_failure_tells_each_coordinator(harness: ChatHarness) -> None:
    service = harness.service
    await cards.report_delivery_failure(
        service.store,
        service.services,
        recipient="zly@adres.example",
        payload={"subject": "Re: Sala"},
        error="SMTP 550 no such user",
        key="abc",
    )
    # To the coordinators' chat channel (the terminal here, as under `lokalnie chat`).
    [row] = await outbox_rows(service, service.services.chat_channel)
    assert row.recipient == str(COORDINATOR_ID)
    assert "zly@adres.example" in row.payload["text"] and "550" in row.payload["text"]
