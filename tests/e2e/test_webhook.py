"""Webhook mode: Telegram's calls are accepted only with the secret token."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from pathlib import Path

import aiohttp

from bot.app import Service
from tests.conftest import make_settings
from tests.e2e.conftest import TOKEN, wait_until
from tests.fakes.telegram_api import FakeTelegramServer
from tests.servers.ports import free_port

SECRET = "webhook-secret-123"


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def update(update_id: int, user_id: int, text: str) -> dict:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": "Ewa"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Ewa", "language_code": "pl"},
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}],
        },
    }


async def test_webhook_with_secret_is_served_and_without_is_refused(
    sqlite_url: str, tmp_path: Path, fake_telegram: FakeTelegramServer
) -> None:
    port = free_port()
    settings = make_settings(
        sqlite_url,
        tmp_path,
        telegram_bot_token=TOKEN,
        telegram_api_base_url=fake_telegram.base_url,
        telegram_mode="webhook",
        webhook_url="https://bot.example.org/telegram",
        webhook_secret=SECRET,
        webhook_listen="127.0.0.1",
        webhook_port=port,
    )
    service = Service(settings)
    await service.prepare()
    stop = asyncio.Event()
    task = asyncio.create_task(service.run_telegram(stop))
    try:
        await wait_until(lambda: fake_telegram.calls("setWebhook") or task.done())
        [registered] = fake_telegram.calls("setWebhook")
        assert registered["params"]["url"] == "https://bot.example.org/telegram"
        assert registered["params"]["secret_token"] == SECRET
        url = f"http://127.0.0.1:{port}/telegram"
        # The bot starts its server, then registers the webhook.
        await wait_until(lambda: _listening(port) or task.done())
        async with aiohttp.ClientSession() as http:
            forged = await http.post(
                url,
                data=json.dumps(update(1, 6001, "/help")),
                headers={
                    "Content-Type": "application/json",
                    "X-Telegram-Bot-Api-Secret-Token": "wrong",
                },
            )
            assert forged.status == 403
            genuine = await http.post(
                url,
                data=json.dumps(update(2, 6002, "/help")),
                headers={
                    "Content-Type": "application/json",
                    "X-Telegram-Bot-Api-Secret-Token": SECRET,
                },
            )
            assert genuine.status == 200
        [reply] = await fake_telegram.await_sent(6002, 1, timeout=10)
        assert "/start" in reply["text"]
        await asyncio.sleep(0.3)
        assert fake_telegram.sent(6001) == []
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=15)
        await service.close()
