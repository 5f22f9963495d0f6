"""/forget is real: markers planted in every feature are gone from the whole store and
the data folder afterwards, except what the personal-data map keeps with a reason."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import Service
from handlers.core.events import IncomingFile, Kind
from handlers.mailbox.events import Address, IncomingAttachment, IncomingMail
from handlers.mailbox.receiving import MailPolicy, receive_mail
from storage.mail import proofs
from storage.models import OutboxMessage, Resident
from storage.personal_map import MAP, Forget
from storage.types import utcnow
from tests.conftest import COORDINATOR_ID, make_settings
from tests.handlers.contest_fixture import sample_contest
from tests.handlers.privacy.dump import dump_folder, dump_store, where
from tests.handlers.survey_fixture import sample_survey
from tests.handlers.surveys.answering import answer_all
from tests.harness import ChatHarness, Person, texts, with_mail

USER = 7_406_912_358
NAME = "Zenobia Markerowska"
PHONE = "604 913 527"
EMAIL = "zenobia.markerowska@example.pl"
CENTRE = "bot@lokalnie.test"
# Free text the person typed; where it may stay is asserted one by one.
IDEA = "Warsztaty ikebany nad stawem"  # a survey's open answer: kept unlinked
TITLE = "Festyn pod wierzbami"  # a submitted proposal's title: kept for the accounting
DESCRIPTION = "Opis festynu z pokazem sokolnika"
BUDGET_ITEM = "Sokolnik z Żelistrzewa"
DRAFT_TITLE = "Szkic potańcówki nad Redą"
DRAFT_FILE = b"%PDF-1.4 szkic kosztorysu Zenobii"
SUBMITTED_FILE = b"%PDF-1.4 plan festynu Zenobii"
QUESTION = f"Czy mogę wypożyczyć salę? Proszę o telefon: {PHONE}"
ANSWER_TO_QUESTION = "Tak, sala jest wolna w soboty"
MAIL_SUBJECT = "Sprawa sali gimnastycznej"
MAIL_TEXT = "Chciałabym zapisać córkę na warsztaty garncarskie."
MAIL_FILE = b"%PDF-1.4 lista uczestnikow garncarstwa"
MAIL_REPLY = "Zapraszamy w czwartek o siedemnastej"
NOW = datetime(2030, 5, 20, 10, 0, tzinfo=UTC)


@pytest.fixture
async def harness(database_url: str, tmp_path: Path) -> AsyncIterator[ChatHarness]:
    service = Service(with_mail(make_settings(database_url, tmp_path)))
    services = service.services
    services.clock = lambda: NOW
    services.contest = sample_contest()
    services.surveys = {"probna": sample_survey()}
    try:
        yield ChatHarness(service)
    finally:
        await service.close()


async def plant_everything(harness: ChatHarness) -> Person:
    zenobia = harness.person(USER, name=NAME)
    await zenobia.send("/start")
    await zenobia.press("Tak, zgadzam")
    await zenobia.press("Tak, chcę")  # subscribed

    # A survey that is not anonymous: name, phone and e-mail among the answers.
    await zenobia.send("/survey")
    typed = {"Telefon": PHONE, "E-mail": EMAIL, "pomysł": IDEA}
    await answer_all(zenobia, until="Dziękujemy", typed=typed)

    # A submitted proposal with a file.
    await fill_form(zenobia, TITLE)
    await zenobia.send(f"{BUDGET_ITEM} – 2000")
    await zenobia.press("Gotowe – budżet")
    file = IncomingFile(
        "f1", "plan-festynu.pdf", "application/pdf", len(SUBMITTED_FILE), SUBMITTED_FILE
    )
    await zenobia.send_kind(Kind.FILE, file=file)
    await zenobia.press("Gotowe – dalej")
    assert "KP-TEST-001" in texts(await zenobia.press("Wyślij zgłoszenie"))

    # A draft with a file.
    await zenobia.send("/propose new")
    await fill_form(zenobia, DRAFT_TITLE, fresh=False)
    await zenobia.send("Nagłośnienie – 500")
    await zenobia.press("Gotowe – budżet")
    draft = IncomingFile("f2", "kosztorys.pdf", "application/pdf", len(DRAFT_FILE), DRAFT_FILE)
    assert "kosztorys.pdf" in texts(await zenobia.send_kind(Kind.FILE, file=draft))

    # A question with a phone number, answered by a coordinator.
    await zenobia.send("/ask")
    await zenobia.send(QUESTION)
    marta = harness.person(COORDINATOR_ID, coordinator=True, name="Marta")
    await marta.choose(button_to(harness, COORDINATOR_ID, "Odpowiedz", QUESTION[:20]))
    await marta.send(ANSWER_TO_QUESTION)

    # An e-mail from her proven address, with a file, and a coordinator's reply.
    await mail_from_her(harness)
    await marta.choose(await queued_button(harness, "Odpowiedz", MAIL_SUBJECT))
    await marta.send(MAIL_REPLY)
    assert EMAIL in texts(await marta.press("Wyślij"))
    return zenobia


async def fill_form(person: Person, title: str, *, fresh: bool = True) -> None:
    if fresh:
        await person.send("/propose")
    await person.press("Grupa nieformalna")
    for answer in (NAME, EMAIL, PHONE, title, DESCRIPTION, "40"):
        await person.send(answer)


def button_to(harness: ChatHarness, chat: int, label: str, about: str) -> str:
    """The data of a button on the latest message to `chat` that mentions `about`."""
    for recipient, reply in reversed(harness.transport.delivered):
        if recipient == str(chat) and about in reply.text:
            for row in reply.buttons:
                for button in row:
                    if label in button.label:
                        return button.data
    raise AssertionError(f"no {label!r} button on a message about {about!r}")


async def queued_button(harness: ChatHarness, label: str, about: str) -> str:
    """A button on a message queued for the coordinator's Telegram (mail cards go there)."""
    async with harness.service.store.transaction() as session:
        rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    for row in reversed(rows):
        if row.recipient == str(COORDINATOR_ID) and about in row.payload.get("text", ""):
            for line in row.payload.get("buttons", []):
                for text, data in line:
                    if label in text:
                        return str(data)
    raise AssertionError(f"no {label!r} button queued about {about!r}")


async def mail_from_her(harness: ChatHarness) -> None:
    service = harness.service
    async with service.store.transaction() as session:
        resident = await session.scalar(select(Resident).where(Resident.telegram_id == USER))
        assert resident is not None
        # The address she proved (the /email flow is tested in tests/mail/test_mail_proof.py).
        await proofs.prove(
            session, resident_id=resident.id, address=EMAIL, how=proofs.CODE, at=utcnow()
        )
    kept = service.settings.data_dir / "mail" / "ab" / "lista.pdf"
    kept.parent.mkdir(parents=True, exist_ok=True)
    kept.write_bytes(MAIL_FILE)
    mail = IncomingMail(
        message_id="20300520.4f2a@poczta.example",
        subject=MAIL_SUBJECT,
        sender=Address(NAME, EMAIL),
        to=[Address("Ośrodek", CENTRE)],
        date=NOW,
        text=f"{MAIL_TEXT}\n{NAME}, tel. {PHONE}",
        headers=[("From", f"{NAME} <{EMAIL}>"), ("Subject", MAIL_SUBJECT)],
        size=900,
        auth={"spf": "pass"},
        folder="INBOX",
        uidvalidity=1,
        uid=1,
        attachments=[
            IncomingAttachment(
                "lista-zenobii.pdf",
                "application/pdf",
                len(MAIL_FILE),
                None,
                "ab" * 32,
                None,
                "mail/ab/lista.pdf",
            )
        ],
    )
    policy = MailPolicy(notify=True, own_addresses=frozenset({CENTRE}))
    async with service.store.transaction() as session:
        await receive_mail(session, service.services, [mail], policy)
    await harness.sender.drain()


def kept_by_the_map(*places: str) -> set[str]:
    """The places asserted to remain, each checked against the map's stated reasons."""
    for place in places:
        table, column = place.split(".")
        how = MAP[table].columns[column]
        assert how.forget in (Forget.KEEP, Forget.ERASE, Forget.UNLINK, Forget.DELETE)
        assert how.reason, f"{place} is kept without a reason in the map"
    return set(places)


async def test_forget_leaves_nothing_but_what_the_map_keeps(harness: ChatHarness) -> None:
    zenobia = await plant_everything(harness)
    store = await dump_store(harness.service.store)
    folder = dump_folder(harness.service.settings.data_dir)
    # Everything was planted where the test looks.
    for marker in (
        NAME,
        PHONE,
        EMAIL,
        str(USER),
        IDEA,
        TITLE,
        DESCRIPTION,
        BUDGET_ITEM,
        DRAFT_TITLE,
        QUESTION,
        MAIL_SUBJECT,
        MAIL_TEXT,
        MAIL_REPLY,
    ):
        assert where(marker, store, folder), marker
    for content in ("plan festynu", "szkic kosztorysu", "lista uczestnikow"):
        assert any(place.startswith("file:") for place in where(content, store, folder))

    [mydata] = [r for r in await zenobia.send("/mydata") if r.file is not None]
    assert mydata.file is not None
    data = json.loads(mydata.file.content)
    [submitted, draft] = data["proposals"]
    assert submitted["number"] == "KP-TEST-001" and draft["status"] == "draft"
    assert submitted["files"] == [{"name": "plan-festynu.pdf", "size": len(SUBMITTED_FILE)}]
    assert draft["files"] == [{"name": "kosztorys.pdf", "size": len(DRAFT_FILE)}]
    assert submitted["budget"] == [{"item": BUDGET_ITEM, "amount": "2000.00"}]
    assert "submitted" in [h["kind"] for h in submitted["history"]]
    [as_submitted] = submitted["as_submitted"]
    assert as_submitted["budget"] == [{"item": BUDGET_ITEM, "amount": "2000.00"}]
    assert as_submitted["files"] == ["plan-festynu.pdf"] and draft["as_submitted"] == []
    [asked] = data["questions_to_coordinators"]
    assert (asked["question"], asked["answer"]) == (QUESTION, ANSWER_TO_QUESTION)
    subjects = [m["subject"] for m in data["emails"]]
    assert MAIL_SUBJECT in subjects
    sent = data["messages_to_you"]
    assert any(m["channel"] == "email" and "KP-TEST-001" in m["subject"] for m in sent)
    assert any(ANSWER_TO_QUESTION in (m["text"] or "") for m in sent)
    assert any(MAIL_REPLY in (m["text"] or "") for m in sent)
    [response] = data["survey_responses"]
    assert IDEA in json.dumps(response["answers"], ensure_ascii=False)

    await zenobia.send("/forget")
    assert "Gotowe" in texts(await zenobia.press("Tak, usuń"))

    store = await dump_store(harness.service.store)
    folder = dump_folder(harness.service.settings.data_dir)
    for marker in (
        NAME,
        PHONE,
        EMAIL,
        str(USER),
        DESCRIPTION,
        BUDGET_ITEM,
        DRAFT_TITLE,
        QUESTION,
        ANSWER_TO_QUESTION,
        MAIL_SUBJECT,
        MAIL_TEXT,
        MAIL_REPLY,
        "plan festynu",
        "szkic kosztorysu",
        "lista uczestnikow",
        "plan-festynu.pdf",
        "kosztorys.pdf",
        "lista-zenobii.pdf",
    ):
        assert where(marker, store, folder) == set(), marker
    assert where(IDEA, store, folder) == kept_by_the_map("survey_answers.value")
    assert where(TITLE, store, folder) == kept_by_the_map("proposals.answers")
    assert folder == {}
