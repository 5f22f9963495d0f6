"""The resident's rights: /mydata and /forget."""

from __future__ import annotations

import json

from sqlalchemy import select

from storage.models import Conversation, Event, OutboxMessage, Resident
from tests.harness import ChatHarness, Person, said, texts


async def consented(harness: ChatHarness, user_id: int, name: str = "Anna") -> Person:
    person = harness.person(user_id, name=name)
    await person.send("/start")
    await person.press("Tak, zgadzam")
    return person


async def test_mydata_sends_json_with_everything_stored(harness: ChatHarness) -> None:
    anna = await consented(harness, 201, "Anna")
    await anna.press("Tak, chcę")
    replies = await anna.send("/mydata")
    [reply] = [r for r in replies if r.file is not None]
    assert reply.file is not None and reply.file.name == "mydata.json"
    data = json.loads(reply.file.content)
    assert data["profile"]["name"] == "Anna"
    assert data["profile"]["telegram_id"] == 201
    assert data["profile"]["subscribed"] is True
    assert data["profile"]["consent_given_at"]
    assert [e["kind"] for e in data["events"]][:2] == ["consent_given", "subscribed"]
    assert any("Dziękujemy" in (m["text"] or "") for m in data["messages_to_you"])


async def test_mydata_for_stranger_says_nothing_is_stored(harness: ChatHarness) -> None:
    replies = await harness.person(202).send("/mydata")
    assert "Nie przechowujemy" in texts(replies)
    assert all(r.file is None for r in replies)


async def test_forget_after_confirmation_erases_personal_data(harness: ChatHarness) -> None:
    anna = await consented(harness, 203, "Anna")
    await anna.press("Tak, chcę")
    question = await anna.send("/forget")
    assert "na pewno" in texts(question)
    assert "usunięte" in texts(await anna.press("Tak, usuń"))
    async with harness.service.store.transaction() as session:
        [resident] = list(await session.scalars(select(Resident)))
        assert resident.telegram_id is None
        assert resident.name is None
        assert resident.email is None
        assert resident.subscribed is False
        assert resident.consent_withdrawn_at is not None
        assert await session.scalar(select(Conversation)) is None
        linked = list(
            await session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == "203"))
        )
        # Only the goodbye (not linked to anyone) still names the chat.
        assert all(m.resident_id is None for m in linked)
        kinds = [e.kind for e in await session.scalars(select(Event).order_by(Event.id))]
        assert kinds[-1] == "forgotten"
    assert "Nie przechowujemy" in texts(await anna.send("/mydata"))


async def test_forget_then_start_again_is_a_new_resident(harness: ChatHarness) -> None:
    anna = await consented(harness, 204)
    await anna.send("/forget")
    await anna.press("Tak, usuń")
    await anna.send("/start")
    assert "Administrator" in texts(await anna.press(said("start.full_clause")))
    await anna.press("Tak, zgadzam")
    async with harness.service.store.transaction() as session:
        rows = list(await session.scalars(select(Resident).order_by(Resident.id)))
    assert [r.telegram_id for r in rows] == [None, 204]


async def test_forget_declined_keeps_data(harness: ChatHarness) -> None:
    anna = await consented(harness, 205)
    await anna.send("/forget")
    assert "niczego nie usunęliśmy" in texts(await anna.press("Nie, zostaw"))
    async with harness.service.store.transaction() as session:
        resident = await session.scalar(select(Resident))
    assert resident is not None and resident.telegram_id == 205


async def test_forget_old_confirm_button_after_cancel_changes_nothing(
    harness: ChatHarness,
) -> None:
    anna = await consented(harness, 206)
    await anna.send("/forget")
    assert "Przerwano" in texts(await anna.send("/cancel"))
    before = await harness.row_counts()
    replies = await anna.press("Tak, usuń")
    assert "nieaktualny" in texts(replies)
    async with harness.service.store.transaction() as session:
        resident = await session.scalar(select(Resident))
    assert resident is not None and resident.telegram_id == 206
    after = await harness.row_counts()
    # Only the reply itself (and its receipt) was written.
    assert {k: after[k] - before[k] for k in after if after[k] != before[k]} == {
        "outbox": 1,
        "inbound_receipts": 1,
    }


async def test_forget_for_stranger_says_nothing_to_erase(harness: ChatHarness) -> None:
    assert "nie ma czego usuwać" in texts(await harness.person(207).send("/forget"))
