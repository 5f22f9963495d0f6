"""The Telegram transport through PTB, against the fake Bot API: each
Bot API error becomes the same delivery error as before."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import pytest
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.errors import PermanentFailure, RecipientGone, RetryLater
from bot.telegram import TelegramTransport
from tests.fakes.telegram_api import FakeTelegramServer

CHAT = 601
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
async def transport(fake_telegram: FakeTelegramServer) -> AsyncIterator[TelegramTransport]:
    async with Bot(
        "123456:TEST-token",
        base_url=fake_telegram.base_url,
        base_file_url=fake_telegram.base_file_url,
    ) as bot:
        yield TelegramTransport(bot)


async def test_transport_text_with_buttons_arrives_and_returns_its_message_id(
    transport: TelegramTransport, fake_telegram: FakeTelegramServer
) -> None:
    message_id = await transport.deliver(
        str(CHAT), {"text": "Zapraszamy", "buttons": [[["Tak", "yes"]]]}
    )
    [sent] = fake_telegram.sent(CHAT)
    assert sent["text"] == "Zapraszamy"
    assert sent["buttons"] == [[{"text": "Tak", "callback_data": "yes"}]]
    assert message_id == str(sent["result"]["message_id"])


async def test_transport_file_is_uploaded_with_its_name(
    transport: TelegramTransport, fake_telegram: FakeTelegramServer
) -> None:
    file = {"name": "raport.csv", "mime_type": "text/csv", "content_b64": "YTtiCg=="}
    await transport.deliver(str(CHAT), {"text": "Raport", "file": file})
    [sent] = fake_telegram.sent(CHAT)
    assert sent["method"] == "sendDocument"
    assert sent["text"] == "Raport"


def pictures(count: int) -> list[dict[str, str]]:
    """Album entries: tiny PNG-signed files named in order."""
    content = base64.b64encode(PNG + b"chart").decode()
    return [
        {"name": f"wykres-{n:02d}.png", "mime_type": "image/png", "content_b64": content}
        for n in range(1, count + 1)
    ]


async def test_transport_album_goes_as_media_groups_of_at_most_ten(
    transport: TelegramTransport, fake_telegram: FakeTelegramServer
) -> None:
    message_id = await transport.deliver(str(CHAT), {"text": "Wykresy", "album": pictures(12)})
    first, second = fake_telegram.sent(CHAT)
    assert [first["method"], second["method"]] == ["sendMediaGroup", "sendMediaGroup"]
    names = [f["filename"] for call in (first, second) for f in call["album"]]
    assert names == [f"wykres-{n:02d}.png" for n in range(1, 13)]
    assert [len(first["album"]), len(second["album"])] == [10, 2]
    assert all(f["type"] == "photo" and f["content"][:8] == PNG for f in first["album"])
    # The caption goes once, under the first album.
    assert (first["text"], second["text"]) == ("Wykresy", None)
    assert message_id == str(second["result"][-1]["message_id"])


# PTB warns about RetryAfter.retry_after becoming a timedelta when raising it.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_transport_album_waits_out_flood_control_without_sending_twice(
    transport: TelegramTransport, fake_telegram: FakeTelegramServer
) -> None:
    fake_telegram.fail_next("sendMediaGroup", CHAT, code=429, retry_after=1, after=1)
    await transport.deliver(str(CHAT), {"text": "Wykresy", "album": pictures(13)})
    first, second = fake_telegram.sent(CHAT)
    assert [len(first["album"]), len(second["album"])] == [10, 3]
    assert len(fake_telegram.calls("sendMediaGroup")) == 3  # the refused one, once more


async def test_transport_album_of_eleven_ends_with_one_photo(
    transport: TelegramTransport, fake_telegram: FakeTelegramServer
) -> None:
    await transport.deliver(str(CHAT), {"text": "Wykresy", "album": pictures(11)})
    album, photo = fake_telegram.sent(CHAT)
    assert (album["method"], len(album["album"])) == ("sendMediaGroup", 10)
    assert (photo["method"], photo["filename"]) == ("sendPhoto", "wykres-11.png")


async def test_transport_album_with_buttons_sends_them_in_a_message_after_it(
    transport: TelegramTransport, fake_telegram: FakeTelegramServer
) -> None:
    await transport.deliver(
        str(CHAT), {"text": "Wykresy", "album": pictures(3), "buttons": [[["Dalej", "next"]]]}
    )
    album, message = fake_telegram.sent(CHAT)
    assert album["method"] == "sendMediaGroup" and album["text"] is None
    assert (message["text"], message["buttons"][0][0]["text"]) == ("Wykresy", "Dalej")


# PTB warns about RetryAfter.retry_after becoming a timedelta when raising it.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_transport_429_is_retry_later_with_flood_control(
    transport: TelegramTransport, fake_telegram: FakeTelegramServer
) -> None:
    fake_telegram.fail_next("sendMessage", CHAT, code=429, retry_after=7)
    with pytest.raises(RetryLater) as caught:
        await transport.deliver(str(CHAT), {"text": "a"})
    assert caught.value.flood_control
    assert caught.value.delay == 7


async def test_transport_403_is_recipient_gone(
    transport: TelegramTransport, fake_telegram: FakeTelegramServer
) -> None:
    fake_telegram.fail_next("sendMessage", CHAT, code=403)
    with pytest.raises(RecipientGone):
        await transport.deliver(str(CHAT), {"text": "a"})


async def test_transport_400_chat_not_found_is_recipient_gone(
    transport: TelegramTransport, fake_telegram: FakeTelegramServer
) -> None:
    fake_telegram.fail_next("sendMessage", CHAT, code=400)
    with pytest.raises(RecipientGone):
        await transport.deliver(str(CHAT), {"text": "a"})


async def test_transport_other_400_is_permanent_failure(
    transport: TelegramTransport, fake_telegram: FakeTelegramServer
) -> None:
    fake_telegram.fail_next(
        "sendMessage", CHAT, code=400, description="Bad Request: message text is empty"
    )
    with pytest.raises(PermanentFailure):
        await transport.deliver(str(CHAT), {"text": "a"})


async def test_transport_server_error_is_retry_later_without_flood_control(
    transport: TelegramTransport, fake_telegram: FakeTelegramServer
) -> None:
    fake_telegram.fail_next("sendMessage", CHAT, code=502)
    with pytest.raises(RetryLater) as caught:
        await transport.deliver(str(CHAT), {"text": "a"})
    assert not caught.value.flood_control


async def test_transport_unreachable_api_is_retry_later() -> None:
    # Nothing listens on port 9 of loopback: a network error, not a Bot API answer.
    request = HTTPXRequest()
    await request.initialize()
    bot = Bot("123456:TEST-token", base_url="http://127.0.0.1:9/bot", request=request)
    try:
        with pytest.raises(RetryLater) as caught:
            await TelegramTransport(bot).deliver(str(CHAT), {"text": "a"})
    finally:
        await request.shutdown()
    assert not caught.value.flood_control
