"""The Telegram channel: updates -> `Inbound` events, outbox rows -> Bot API calls.

Updates come in through `bot.intake` (stored before they are confirmed); PTB's
Application is used for its Bot and HTTP client only, not its Updater.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import replace
from datetime import timedelta
from typing import Any

from telegram import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    InputMediaDocument,
    InputMediaPhoto,
    Update,
)
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import Application

from bot.config import Settings
from bot.errors import PermanentFailure, RecipientGone, RetryLater
from handlers.core.events import Inbound, IncomingFile, Kind, OutgoingFile, Reply
from handlers.core.i18n import LANGUAGES, Translator
from handlers.core.replies import from_payload
from handlers.routes import ROUTES

# Opt in to PTB's coming behaviour (RetryAfter.retry_after as a timedelta) now.
os.environ.setdefault("PTB_TIMEDELTA", "1")

log = logging.getLogger(__name__)

CHANNEL = "telegram"
MAX_MESSAGE = 4096
MAX_CAPTION = 1024
# sendMediaGroup takes 2 to 10 pictures; a longer album goes as several.
MAX_ALBUM = 10
# How long an album half sent may wait for Telegram's flood control before the rest.
MAX_ALBUM_WAIT = 30.0
# The Bot API serves files up to 20 MB to bots.
MAX_DOWNLOAD = 20 * 1024 * 1024
# Connections to the Bot API for everything but getUpdates (which has its own).
POOL_SIZE = 32


def build_application(settings: Settings) -> Application:
    assert settings.telegram_bot_token is not None
    return (
        Application.builder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(settings.telegram_api_base_url)
        .base_file_url(settings.file_base_url)
        # PTB's own HTTP client (httpx). The pool is above the outbox sender's
        # concurrency (8 chats at a time) plus callback answers and downloads, and
        # a send waits a few seconds for a free connection before counting as failed.
        .connection_pool_size(POOL_SIZE)
        .pool_timeout(5.0)
        .connect_timeout(5.0)
        .read_timeout(10.0)
        .write_timeout(10.0)
        # Charts and exports are uploads of up to a few MB.
        .media_write_timeout(30.0)
        # Updates are handled one at a time, in order: a resident's answers
        # must not overtake each other.
        .concurrent_updates(False)
        # Updates are fetched and confirmed by bot.intake, only once stored.
        .updater(None)
        .build()
    )


def to_inbound(update: Update, *, bot_id: int, coordinator_ids: frozenset[int]) -> Inbound | None:
    """Translate an update; None for what a private-chat bot ignores (groups, edits)."""
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None or chat.type != ChatType.PRIVATE or user.is_bot:
        return None
    common: dict[str, Any] = {
        "channel": CHANNEL,
        "chat_id": str(chat.id),
        "user_id": user.id,
        "external_id": f"{bot_id}:{update.update_id}",
        "display_name": user.first_name,
        "language_hint": user.language_code,
        "is_coordinator": user.id in coordinator_ids,
    }
    if update.callback_query is not None:
        query = update.callback_query
        message_id = str(query.message.message_id) if query.message is not None else None
        return Inbound(kind=Kind.CHOICE, choice=query.data or "", message_id=message_id, **common)
    message = update.message
    if message is None:
        return None
    if message.text is not None:
        text = message.text
        if text.startswith("/") and len(text) > 1:
            head, _, args = text[1:].partition(" ")
            return Inbound(
                kind=Kind.COMMAND,
                command=head.split("@")[0],
                args=args.strip(),
                text=text,
                **common,
            )
        return Inbound(kind=Kind.TEXT, text=text, **common)
    if message.document is not None:
        doc = message.document
        file = IncomingFile(doc.file_id, doc.file_name, doc.mime_type, doc.file_size)
        return Inbound(kind=Kind.FILE, file=file, text=message.caption, **common)
    if message.photo:
        photo = message.photo[-1]
        file = IncomingFile(photo.file_id, None, "image/jpeg", photo.file_size)
        return Inbound(kind=Kind.FILE, file=file, text=message.caption, **common)
    return Inbound(kind=Kind.UNSUPPORTED, **common)


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _chunks(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


class TelegramTransport:
    """Delivers outbox payloads with the Bot API, mapping its errors to ours."""

    channel = CHANNEL

    def __init__(self, bot: Any) -> None:
        self.bot = bot

    async def deliver(self, recipient: str, payload: dict[str, Any]) -> str | None:
        reply = from_payload(payload)
        markup = None
        if reply.buttons:
            markup = InlineKeyboardMarkup(
                [
                    [InlineKeyboardButton(b.label, callback_data=b.data) for b in row]
                    for row in reply.buttons
                ]
            )
        chat_id = int(recipient)
        try:
            edit_id = payload.get("edit_message_id")
            if edit_id and await self._edit(chat_id, int(edit_id), reply.text, markup):
                return str(edit_id)
            message = await self._send(chat_id, reply, markup)
        except RetryAfter as error:
            raise RetryLater(
                str(error), delay=_seconds(error.retry_after), flood_control=True
            ) from error
        except Forbidden as error:
            raise RecipientGone(str(error)) from error
        except BadRequest as error:
            if "chat not found" in str(error).lower():
                raise RecipientGone(str(error)) from error
            raise PermanentFailure(str(error)) from error
        except TelegramError as error:  # network errors and time-outs
            raise RetryLater(str(error), delay=5) from error
        return str(message.message_id)

    async def _send(self, chat_id: int, reply: Reply, markup: Any) -> Any:
        """Send a reply; returns the last Telegram message (the one with the buttons)."""
        if reply.album:
            return await self._send_album(chat_id, reply, markup)
        if reply.file is not None and reply.file.mime_type.startswith("image/"):
            # Charts go as photos: shown inline, readable without opening a file.
            return await self.bot.send_photo(
                chat_id,
                photo=InputFile(reply.file.content, filename=reply.file.name),
                caption=reply.text[:MAX_CAPTION] or None,
                reply_markup=markup,
            )
        if reply.file is not None and len(reply.text) <= MAX_CAPTION:
            return await self.bot.send_document(
                chat_id,
                document=InputFile(reply.file.content, filename=reply.file.name),
                caption=reply.text or None,
                reply_markup=markup,
            )
        parts = _chunks(reply.text, MAX_MESSAGE)
        message = None
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            message = await self.bot.send_message(
                chat_id, part, reply_markup=markup if last and not reply.file else None
            )
        if reply.file is not None:
            message = await self.bot.send_document(
                chat_id,
                document=InputFile(reply.file.content, filename=reply.file.name),
                reply_markup=markup,
            )
        return message

    async def _send_album(self, chat_id: int, reply: Reply, markup: Any) -> Any:
        """Pictures as albums of at most MAX_ALBUM, the text as the first one's caption.

        Telegram shows no buttons under an album and no caption over 1024
        characters: then the text (with the buttons) follows as a message.
        The row counts as sent only when every part went. Flood control after the
        first album is waited out here, so a retry does not send that album twice;
        another error then makes the whole row go again.
        """
        caption = reply.text if reply.text and len(reply.text) <= MAX_CAPTION else None
        if markup is not None:
            caption = None
        message = None
        for start in range(0, len(reply.album), MAX_ALBUM):
            files = reply.album[start : start + MAX_ALBUM]
            text = caption if start == 0 else None
            if len(files) == 1:
                message = await self._send_one(chat_id, files[0], text)
                continue
            photos = all(f.mime_type.startswith("image/") for f in files)
            media = [
                (InputMediaPhoto if photos else InputMediaDocument)(
                    # Each its own attach:// part, not all under one form field.
                    InputFile(f.content, filename=f.name, attach=True),
                    caption=text if index == 0 else None,
                )
                for index, f in enumerate(files)
            ]
            try:
                sent = await self.bot.send_media_group(chat_id, media=media)
            except RetryAfter as error:
                if start == 0 or _seconds(error.retry_after) > MAX_ALBUM_WAIT:
                    raise
                # Part of the album is out: wait here rather than send it all again.
                await asyncio.sleep(_seconds(error.retry_after))
                sent = await self.bot.send_media_group(chat_id, media=media)
            message = sent[-1]
        if caption is None and reply.text:
            message = await self.bot.send_message(chat_id, reply.text, reply_markup=markup)
        return message

    async def _send_one(self, chat_id: int, file: OutgoingFile, caption: str | None) -> Any:
        upload = InputFile(file.content, filename=file.name)
        if file.mime_type.startswith("image/"):
            return await self.bot.send_photo(chat_id, photo=upload, caption=caption)
        return await self.bot.send_document(chat_id, document=upload, caption=caption)

    async def _edit(self, chat_id: int, message_id: int, text: str, markup: Any) -> bool:
        """Edit in place; False when the message can no longer be edited (send anew)."""
        try:
            await self.bot.edit_message_text(
                text, chat_id=chat_id, message_id=message_id, reply_markup=markup
            )
        except BadRequest as error:
            return "not modified" in str(error).lower()
        return True


def command_menus(
    translator: Translator, coordinator_ids: frozenset[int]
) -> list[tuple[list[BotCommand], Any, str | None]]:
    """Every (commands, scope, language) the bot's menu is set to."""
    menus: list[tuple[list[BotCommand], Any, str | None]] = []

    def commands(language: str, coordinator: bool) -> list[BotCommand]:
        return [
            BotCommand(c.name, translator.text(language, "command." + c.name))
            for c in ROUTES.menu(coordinator=coordinator)
        ]

    default = translator.default_language
    menus.append((commands(default, False), BotCommandScopeDefault(), None))
    for language in LANGUAGES:
        menus.append((commands(language, False), BotCommandScopeDefault(), language))
    for chat_id in sorted(coordinator_ids):
        menus.append((commands(default, True), BotCommandScopeChat(chat_id), None))
        for language in LANGUAGES:
            menus.append((commands(language, True), BotCommandScopeChat(chat_id), language))
    return menus


async def set_command_menus(
    bot: Any, translator: Translator, coordinator_ids: frozenset[int]
) -> None:
    for commands, scope, language in command_menus(translator, coordinator_ids):
        try:
            await bot.set_my_commands(commands, scope=scope, language_code=language)
        except TelegramError as error:
            # A coordinator who never opened the chat cannot get a menu yet.
            log.warning("could not set the command menu (%s, %s): %s", scope, language, error)


async def with_content(bot: Any, inbound: Inbound) -> Inbound:
    """Fetch a sent file's bytes, so handlers can store it without Telegram code."""
    file = inbound.file
    assert file is not None
    if file.size is not None and file.size > MAX_DOWNLOAD:
        return inbound
    try:
        telegram_file = await bot.get_file(file.ref)
        content = bytes(await telegram_file.download_as_bytearray())
    except TelegramError as error:
        log.warning("could not download a file from Telegram: %s", error)
        return inbound
    return replace(inbound, file=replace(file, content=content, size=len(content)))


async def answer_callback(query: Any) -> None:
    try:
        await query.answer()
    except TelegramError as error:
        log.info("could not answer a callback query: %s", error)
