"""First contact: greeting, RODO clause, consent, language, news, help."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Event, Resident
from tests.conftest import COORDINATOR_ID
from tests.harness import ChatHarness, said, texts


async def residents(harness: ChatHarness) -> list[Resident]:
    async with harness.service.store.transaction() as session:
        return list(await session.scalars(select(Resident)))


async def test_start_new_person_gets_clause_and_nothing_is_stored(harness: ChatHarness) -> None:
    anna = harness.person(101)
    replies = await anna.send("/start")
    text = texts(replies)
    assert "Dzień dobry" in text
    assert "Miejsko-Gminnego Ośrodka Kultury w Kaliszu Pomorskim" in text
    labels = [b.label for r in replies for row in r.buttons for b in row]
    assert any("zgadzam" in label for label in labels)
    # The full clause is one press away (the layered notice).
    clause = texts(await anna.press(said("start.full_clause")))
    for part in ("Administrator", "Cel:", "Przechowujemy", "prawo", "UODO"):
        assert part in clause
    assert await residents(harness) == []


async def test_consent_yes_creates_resident_with_time_and_name(harness: ChatHarness) -> None:
    anna = harness.person(102, name="Anna")
    await anna.send("/start")
    replies = await anna.press("Tak, zgadzam")
    assert "Dziękujemy" in texts(replies)
    [resident] = await residents(harness)
    assert resident.telegram_id == 102
    assert resident.name == "Anna"
    assert resident.language == "pl"
    assert resident.consent_given_at is not None
    assert resident.subscribed is False


async def test_consent_no_stores_nothing(harness: ChatHarness) -> None:
    anna = harness.person(103)
    await anna.send("/start")
    replies = await anna.press("Nie, dziękuję")
    assert said("start.consent_declined") in texts(replies)
    assert await residents(harness) == []


async def test_consent_button_pressed_twice_creates_one_resident(harness: ChatHarness) -> None:
    anna = harness.person(104)
    await anna.send("/start")
    await anna.press("Tak, zgadzam")
    replies = await anna.press("Tak, zgadzam")
    assert "już zapisana" in texts(replies)
    assert len(await residents(harness)) == 1


async def test_language_before_consent_shows_english_start_and_stores_nothing(
    harness: ChatHarness,
) -> None:
    john = harness.person(105, language_hint=None)
    await john.send("/language")
    replies = await john.press("English")
    text = texts(replies)
    assert "Hello! This is Lokalnie" in text
    assert "Controller" in texts(await john.press(said("start.full_clause", "en")))
    assert await residents(harness) == []
    replies = await john.press("Yes, I agree")
    assert "Thank you" in texts(replies)
    [resident] = await residents(harness)
    assert resident.language == "en"


async def test_telegram_language_hint_english_greets_in_english(harness: ChatHarness) -> None:
    john = harness.person(106, language_hint="en-GB")
    assert "Hello!" in texts(await john.send("/start"))


async def test_language_after_consent_is_saved_and_used(harness: ChatHarness) -> None:
    anna = harness.person(107)
    await anna.send("/start")
    await anna.press("Tak, zgadzam")
    await anna.send("/language")
    assert "English" in texts(await anna.press("English"))
    [resident] = await residents(harness)
    assert resident.language == "en"
    assert "list of commands" in texts(await anna.send("/help"))


async def test_news_offer_yes_subscribes_and_stop_unsubscribes(harness: ChatHarness) -> None:
    anna = harness.person(108)
    await anna.send("/start")
    await anna.press("Tak, zgadzam")
    assert "włączone" in texts(await anna.press("Tak, chcę"))
    assert (await residents(harness))[0].subscribed is True
    assert "Nie będziemy" in texts(await anna.send("/stop"))
    assert (await residents(harness))[0].subscribed is False
    assert "już wyłączone" in texts(await anna.send("/stop"))
    assert "włączone" in texts(await anna.send("/subscribe"))
    assert (await residents(harness))[0].subscribed is True
    async with harness.service.store.transaction() as session:
        kinds = [e.kind for e in await session.scalars(select(Event).order_by(Event.id))]
    assert kinds == ["consent_given", "subscribed", "unsubscribed", "subscribed"]


async def test_subscribe_before_consent_asks_to_start(harness: ChatHarness) -> None:
    anna = harness.person(109)
    assert "/start" in texts(await anna.send("/subscribe"))
    assert await residents(harness) == []


async def test_help_for_resident_lists_commands_without_admin(harness: ChatHarness) -> None:
    text = texts(await harness.person(110).send("/help"))
    for command in ("/start", "/help", "/language", "/mydata", "/forget", "/stop", "/cancel"):
        assert command in text
    assert "/admin" not in text


async def test_help_for_coordinator_lists_admin(harness: ChatHarness) -> None:
    coordinator = harness.person(COORDINATOR_ID, coordinator=True)
    assert "/admin" in texts(await coordinator.send("/help"))


async def test_start_after_consent_welcomes_back_by_name(harness: ChatHarness) -> None:
    anna = harness.person(111, name="Anna")
    await anna.send("/start")
    await anna.press("Tak, zgadzam")
    assert "Witaj ponownie, Anna" in texts(await anna.send("/start"))
