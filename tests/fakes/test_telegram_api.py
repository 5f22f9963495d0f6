"""Tests of the fake Bot API server, driven by the real python-telegram-bot Bot/Application."""

from __future__ import annotations

import datetime as dtm
import threading
import time
import warnings
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram import Bot as PtbBot
from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest, EndPointNotFound, Forbidden, RetryAfter
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.fakes.telegram_api import BOT_USER, FakeTelegramServer

TOKEN = "123456:TEST-token"
USER = 501
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def build_app(server: FakeTelegramServer) -> Application:
    """An Application wired to the fake exactly as production code would configure it."""
    return (
        Application.builder()
        .token(TOKEN)
        .base_url(server.base_url)
        .base_file_url(server.base_file_url)
        .build()
    )


async def start_app(app: Application) -> None:
    """Drive the app like run_polling() does, but inside the test's own loop."""
    await app.initialize()
    await app.start()
    await app.updater.start_polling(poll_interval=0, timeout=dtm.timedelta(seconds=5))


async def stop_app(app: Application) -> None:
    """Stop polling first (cancels the in-flight long poll), then the app."""
    if app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    await app.shutdown()


@pytest.fixture
async def bot(fake_telegram: FakeTelegramServer) -> AsyncIterator[PtbBot]:
    async with PtbBot(
        TOKEN, base_url=fake_telegram.base_url, base_file_url=fake_telegram.base_file_url
    ) as ptb_bot:
        yield ptb_bot


def retry_after_seconds(exc: RetryAfter) -> float:
    """RetryAfter.retry_after is int or timedelta depending on PTB_TIMEDELTA."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


async def test_get_me_real_bot_returns_fake_bot_user(bot: PtbBot) -> None:
    me = await bot.get_me()

    assert me.id == BOT_USER["id"]
    assert me.username == BOT_USER["username"]
    assert me.is_bot


async def test_send_message_inline_keyboard_records_text_and_buttons(
    bot: PtbBot, fake_telegram: FakeTelegramServer
) -> None:
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Tak", callback_data="yes"),
                InlineKeyboardButton("Nie", callback_data="no"),
            ]
        ]
    )

    message = await bot.send_message(USER, "<b>Cześć</b>", parse_mode="HTML", reply_markup=markup)

    assert message.chat.id == USER
    assert message.text == "<b>Cześć</b>"
    assert message.reply_markup == markup
    [record] = fake_telegram.sent(USER)
    assert record["method"] == "sendMessage"
    assert record["params"]["parse_mode"] == "HTML"
    assert record["params"]["chat_id"] == USER
    assert [b["callback_data"] for b in record["buttons"][0]] == ["yes", "no"]
    assert record["message_id"] == message.message_id
    assert record["ts"] == pytest.approx(time.time(), abs=5)


async def test_application_start_command_reaches_command_handler_and_reply_is_recorded(
    fake_telegram: FakeTelegramServer,
) -> None:
    seen: list[tuple[int, str | None]] = []

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_user is not None and update.effective_message is not None
        seen.append((update.effective_user.id, update.effective_user.language_code))
        await update.effective_message.reply_text(f"Witaj {update.effective_user.first_name}")

    app = build_app(fake_telegram)
    app.add_handler(CommandHandler("start", start))
    await start_app(app)
    try:
        fake_telegram.push_message(USER, "/start", first_name="Ola", language_code="pl")
        [reply] = await fake_telegram.await_sent(USER, 1, timeout=5)
    finally:
        await stop_app(app)

    assert seen == [(USER, "pl")]
    assert reply["text"] == "Witaj Ola"
    assert fake_telegram.pending_updates() == []  # the shutdown poll confirmed the update


async def test_application_callback_reaches_callback_handler_and_answer_is_recorded(
    fake_telegram: FakeTelegramServer,
) -> None:
    async def menu(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        keyboard = [[InlineKeyboardButton("Zapisz mnie", callback_data="signup:7")]]
        await update.effective_message.reply_text(
            "Warsztaty", reply_markup=InlineKeyboardMarkup(keyboard)
        )

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.message is not None
        await query.answer("Zapisano")
        await query.edit_message_text(f"Zapisano: {query.data}")

    app = build_app(fake_telegram)
    app.add_handler(CommandHandler("menu", menu))
    app.add_handler(CallbackQueryHandler(pressed))
    await start_app(app)
    try:
        fake_telegram.push_message(USER, "/menu")
        [menu_message] = await fake_telegram.await_sent(USER, 1, timeout=5)
        fake_telegram.push_callback(USER, "signup:7")
        sent = await fake_telegram.await_sent(USER, 2, timeout=5)
    finally:
        await stop_app(app)

    edit = sent[1]
    assert edit["method"] == "editMessageText"
    assert edit["params"]["message_id"] == menu_message["message_id"]
    assert edit["text"] == "Zapisano: signup:7"
    [answer] = fake_telegram.answered_callbacks()
    assert answer["text"] == "Zapisano"
    assert answer["data"] == "signup:7"
    stored = fake_telegram.message(USER, menu_message["message_id"])
    assert stored is not None and stored["text"] == "Zapisano: signup:7"
    assert "reply_markup" not in stored


async def test_application_non_text_messages_reach_message_handlers(
    fake_telegram: FakeTelegramServer,
) -> None:
    kinds: list[str] = []

    async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        if message.sticker:
            kinds.append("sticker")
        elif message.photo:
            kinds.append("photo")
        elif message.document:
            file = await message.document.get_file()
            kinds.append(f"document:{bytes(await file.download_as_bytearray()).decode()}")
        await message.reply_text("ok")

    app = build_app(fake_telegram)
    app.add_handler(MessageHandler(~filters.TEXT, record))
    await start_app(app)
    try:
        fake_telegram.push_sticker(USER)
        fake_telegram.push_photo(USER)
        fake_telegram.push_document(USER, "plakat.pdf", content=b"%PDF-1.4")
        await fake_telegram.await_sent(USER, 3, timeout=5)
    finally:
        await stop_app(app)

    assert kinds == ["sticker", "photo", "document:%PDF-1.4"]


# PTB warns about RetryAfter.retry_after becoming a timedelta (PTB_TIMEDELTA) when raising it.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_send_message_fail_next_429_raises_retry_after_once(
    bot: PtbBot, fake_telegram: FakeTelegramServer
) -> None:
    fake_telegram.fail_next("sendMessage", USER, code=429, retry_after=7)

    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(USER, "pierwsza")
    await bot.send_message(USER, "druga")

    assert retry_after_seconds(caught.value) == 7
    assert [r["text"] for r in fake_telegram.sent(USER)] == ["druga"]
    failed = fake_telegram.sent(USER, include_failed=True)[0]
    assert (failed["ok"], failed["error_code"]) == (False, 429)


async def test_send_message_fail_next_403_raises_forbidden_for_that_chat_only(
    bot: PtbBot, fake_telegram: FakeTelegramServer
) -> None:
    fake_telegram.fail_next("sendMessage", USER, code=403)

    await bot.send_message(USER + 1, "inny czat")
    with pytest.raises(Forbidden, match="blocked by the user"):
        await bot.send_message(USER, "zablokowany")

    assert fake_telegram.sent_texts() == ["inny czat"]


async def test_send_document_bytes_records_filename_and_content(
    bot: PtbBot, fake_telegram: FakeTelegramServer
) -> None:
    message = await bot.send_document(
        USER, document=b"a;b\n1;2\n", filename="raport.csv", caption="Raport"
    )

    [record] = fake_telegram.sent(USER, method="sendDocument")
    assert record["filename"] == "raport.csv"
    assert record["content"] == b"a;b\n1;2\n"
    assert record["text"] == "Raport"
    assert message.document is not None and message.document.file_name == "raport.csv"
    downloaded = await (await bot.get_file(message.document.file_id)).download_as_bytearray()
    assert bytes(downloaded) == b"a;b\n1;2\n"


async def test_send_photo_bytes_records_upload_and_returns_photo_sizes(
    bot: PtbBot, fake_telegram: FakeTelegramServer
) -> None:
    message = await bot.send_photo(USER, photo=b"\x89PNG fake", filename="plakat.png")

    [record] = fake_telegram.sent(USER, method="sendPhoto")
    assert record["filename"] == "plakat.png"
    assert record["content"] == b"\x89PNG fake"
    assert message.photo and message.photo[-1].width == 800


async def test_set_my_commands_two_languages_stored_per_language(
    bot: PtbBot, fake_telegram: FakeTelegramServer
) -> None:
    await bot.set_my_commands([BotCommand("start", "Zacznij")], language_code="pl")
    await bot.set_my_commands(
        [BotCommand("start", "Start"), BotCommand("help", "Help")], language_code="en"
    )

    assert fake_telegram.commands("pl") == [{"command": "start", "description": "Zacznij"}]
    assert [c["command"] for c in fake_telegram.commands("en")] == ["start", "help"]
    assert fake_telegram.commands() == []
    assert [c.command for c in await bot.get_my_commands(language_code="en")] == ["start", "help"]
    await bot.delete_my_commands(language_code="pl")
    assert fake_telegram.commands("pl") == []


async def test_get_updates_pushed_during_long_poll_returns_early(
    bot: PtbBot, fake_telegram: FakeTelegramServer
) -> None:
    timer = threading.Timer(0.2, fake_telegram.push_message, args=(USER, "hej"))
    started = time.monotonic()
    timer.start()
    try:
        updates = await bot.get_updates(timeout=5)
    finally:
        timer.cancel()

    assert time.monotonic() - started < 2
    assert [u.message.text for u in updates if u.message] == ["hej"]


async def test_get_updates_offset_and_limit_confirm_earlier_updates(
    bot: PtbBot, fake_telegram: FakeTelegramServer
) -> None:
    ids = [fake_telegram.push_message(USER, f"m{i}") for i in range(3)]

    first = await bot.get_updates(limit=2, timeout=0)
    rest = await bot.get_updates(offset=first[-1].update_id + 1, timeout=0)

    assert [u.update_id for u in first] == ids[:2]
    assert [u.update_id for u in rest] == ids[2:]
    assert [u["update_id"] for u in fake_telegram.pending_updates()] == ids[2:]


async def test_get_updates_allowed_updates_filters_out_other_types(
    bot: PtbBot, fake_telegram: FakeTelegramServer
) -> None:
    fake_telegram.push_message(USER, "tekst")
    callback_id = fake_telegram.push_callback(USER, "x")

    updates = await bot.get_updates(timeout=0, allowed_updates=["callback_query"])

    assert [u.update_id for u in updates] == [callback_id]
    assert updates[0].callback_query is not None and updates[0].callback_query.data == "x"


async def test_unknown_method_answers_404_and_is_recorded(
    bot: PtbBot, fake_telegram: FakeTelegramServer
) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTelepathy", api_kwargs={"chat_id": USER})

    [record] = fake_telegram.calls("sendTelepathy")
    assert record["error_code"] == 404 and record["unknown"]


async def test_edit_message_text_unchanged_raises_bad_request_like_telegram(
    bot: PtbBot, fake_telegram: FakeTelegramServer
) -> None:
    message = await bot.send_message(USER, "a")

    with pytest.raises(BadRequest, match="not modified"):
        await bot.edit_message_text("a", chat_id=USER, message_id=message.message_id)


async def test_send_message_delay_next_answers_late_and_records_arrival_time(
    bot: PtbBot, fake_telegram: FakeTelegramServer
) -> None:
    fake_telegram.delay_next("sendMessage", 0.3)
    started = time.monotonic()

    await bot.send_message(USER, "powoli")

    assert time.monotonic() - started >= 0.3
    [record] = fake_telegram.sent(USER)
    assert record["time"] - started < 0.3


def test_wait_for_sent_nothing_sent_raises_timeout(fake_telegram: FakeTelegramServer) -> None:
    started = time.monotonic()

    with pytest.raises(TimeoutError, match="expected 1"):
        fake_telegram.wait_for_sent(USER, 1, timeout=0.2)

    assert time.monotonic() - started < 1
