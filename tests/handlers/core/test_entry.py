"""Whatever a resident sends that the bot does not expect: a short answer, no change."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from handlers.core.events import IncomingFile, Kind
from handlers.core.routing import Command
from handlers.routes import ROUTES
from tests.harness import ChatHarness, Person, texts


async def consented(harness: ChatHarness, user_id: int) -> Person:
    person = harness.person(user_id)
    await person.send("/start")
    await person.press("Tak, zgadzam")
    return person


async def changes(harness: ChatHarness, person: Person, action) -> tuple[str, dict[str, int]]:
    before = await harness.row_counts()
    replies = await action(person)
    after = await harness.row_counts()
    return texts(replies), {k: after[k] - before[k] for k in after if after[k] != before[k]}


ONLY_THE_ANSWER = {"outbox": 1, "inbound_receipts": 1}


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        (lambda p: p.send("/teleport"), "Nie znam polecenia /teleport"),
        (lambda p: p.send("x" * 10_000), "za długa"),
        (lambda p: p.send("dzień dobry"), "Nie rozumiem tej wiadomości"),
        (lambda p: p.send_kind(Kind.UNSUPPORTED), "nie potrafię odczytać"),
        (lambda p: p.send_kind(Kind.FILE, file=IncomingFile("f1", "a.pdf")), "nie potrafię"),
        (lambda p: p.choose("garbage"), "nieaktualny"),
        (lambda p: p.choose("survey:q9:3"), "nieaktualny"),
        (lambda p: p.send("/cancel"), "Nie ma czego przerywać"),
    ],
    ids=["unknown-command", "10k-text", "chatter", "sticker", "file", "garbled", "old", "cancel"],
)
async def test_unexpected_input_answers_briefly_and_changes_nothing(
    harness: ChatHarness, action, expected: str
) -> None:
    anna = await consented(harness, 401)
    text, changed = await changes(harness, anna, action)
    assert expected in text
    assert changed == ONLY_THE_ANSWER


async def test_text_before_start_points_to_start(harness: ChatHarness) -> None:
    stranger = harness.person(402)
    text, changed = await changes(harness, stranger, lambda p: p.send("hej"))
    assert "/start" in text
    # Nothing kept about someone without consent: the reply is purged once delivered.
    assert changed == {"inbound_receipts": 1}


async def test_redelivered_update_is_handled_once(harness: ChatHarness) -> None:
    anna = harness.person(403)
    await anna.send("/start")
    first = await anna.deliver(anna._event(Kind.CHOICE, choice="consent:pl:yes", external_id="u-1"))
    again = await anna.deliver(anna._event(Kind.CHOICE, choice="consent:pl:yes", external_id="u-1"))
    assert "Dziękujemy" in texts(first)
    assert again == []


async def test_handler_failure_rolls_back_and_apologises(
    harness: ChatHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    anna = await consented(harness, 404)

    async def broken(ctx):  # noqa: ANN001, ANN202
        from storage import residents

        await residents.set_subscribed(ctx.session, ctx.resident, subscribed=True)
        raise RuntimeError("boom")

    command = ROUTES.commands["subscribe"]
    monkeypatch.setitem(ROUTES.commands, "subscribe", Command("subscribe", broken, True))
    replies = await anna.send("/subscribe")
    assert "coś poszło nie tak" in texts(replies)
    monkeypatch.setitem(ROUTES.commands, "subscribe", command)
    # The half-done change was rolled back: news are still off.
    assert "już wyłączone" in texts(await anna.send("/stop"))


class RecordingReplySender:
    """A running sender as `lokalnie run` has one: takes every chat's replies claimed."""

    def __init__(self) -> None:
        self.taken: list[str] = []

    def takes(self, channel: str) -> bool:
        return True

    def take(self, replies: list) -> None:  # noqa: ANN001
        self.taken += [reply.payload["text"] for reply in replies]


async def test_a_reply_whose_commit_failed_is_never_handed_to_the_sender(
    harness: ChatHarness,
) -> None:
    anna = await consented(harness, 405)
    sender = RecordingReplySender()
    harness.service.services.reply_sender = sender
    failed: list[bool] = []

    def fail_first_commit(_connection) -> None:  # noqa: ANN001
        if not failed:
            failed.append(True)
            raise RuntimeError("the disk is full")

    engine = harness.service.store.engine.sync_engine
    event.listen(engine, "commit", fail_first_commit)
    try:
        replies = await anna.send("/help")
    finally:
        event.remove(engine, "commit", fail_first_commit)
    # The help was never stored, so it must not go out; the apology does (as a pending row).
    assert failed and sender.taken == []
    assert "coś poszło nie tak" in texts(replies)
    helped = await anna.send("/help")
    assert sender.taken and "/survey" in sender.taken[0] and helped == []
