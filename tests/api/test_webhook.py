"""Webhook mode: the API process takes Telegram's updates, checks the secret, drops repeats."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bot.app import create_bot, create_dispatcher
from bot.webhook import register_webhook
from core.runtime import api_app
from core.services import Services
from core.settings import ConfigError, Settings
from tests.conftest import REDIS_URL, make_settings
from tests.fakes.telegram_server import FakeTelegram

SECRET = "webhook-secret_123"
HOOK = "https://bot.example.org/telegram/webhook"


@pytest.fixture
async def fake_tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as tg:
        yield tg


@pytest.fixture
def settings_overrides(fake_tg: FakeTelegram) -> dict[str, Any]:
    return {
        "BOT_TOKEN": fake_tg.token,
        "TELEGRAM_API_URL": fake_tg.base_url,
        "WEBHOOK_URL": HOOK,
        "WEBHOOK_SECRET": SECRET,
        "REDIS_URL": REDIS_URL,
        "BOT_THROTTLE_PER_SECOND": 1000,
    }


@pytest.fixture
async def hook_client(settings: Settings, services: Services) -> AsyncIterator[httpx.AsyncClient]:
    async with api_app(settings, services) as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            yield client


def start_update(fake_tg: FakeTelegram, user_id: int) -> dict[str, Any]:
    """A /start update with an id never used before (the seen ids live in the shared Redis)."""
    user = fake_tg.user("Anna", user_id=user_id)
    update = fake_tg.send_text(user, "/start")
    return {**update, "update_id": time.time_ns() // 1000}


async def test_bot_registers_its_webhook_with_the_secret(
    settings: Settings, services: Services, fake_tg: FakeTelegram
) -> None:
    bot = create_bot(settings)
    try:
        await register_webhook(settings, bot, create_dispatcher(services, settings))
    finally:
        await bot.session.close()
    assert fake_tg.webhook.url == HOOK
    assert fake_tg.webhook.secret_token == SECRET


async def test_update_with_the_secret_is_handled_once(
    hook_client: httpx.AsyncClient, fake_tg: FakeTelegram
) -> None:
    update = start_update(fake_tg, 4242)
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    r = await hook_client.post("/telegram/webhook", json=update, headers=headers)
    assert r.status_code == 200 and r.json() == {"ok": True}
    await fake_tg.wait_for("sendMessage")
    # Telegram re-sends what it thinks was lost: the same id is answered, not handled again.
    mark = fake_tg.mark()
    r = await hook_client.post("/telegram/webhook", json=update, headers=headers)
    assert r.status_code == 200
    with pytest.raises(AssertionError):
        await fake_tg.wait_for("sendMessage", timeout=0.5, since=mark)


@pytest.mark.parametrize("secret", [None, "", "wrong-secret", SECRET + "x"])
async def test_wrong_or_missing_secret_is_403_and_not_handled(
    hook_client: httpx.AsyncClient, fake_tg: FakeTelegram, secret: str | None
) -> None:
    update = start_update(fake_tg, 4343)
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    mark = fake_tg.mark()
    r = await hook_client.post("/telegram/webhook", json=update, headers=headers)
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    with pytest.raises(AssertionError):
        await fake_tg.wait_for("sendMessage", timeout=0.5, since=mark)


@pytest.mark.parametrize("body", [b"{", b"[]", b'{"message": 1}'])
async def test_a_body_that_is_not_an_update_is_422(
    hook_client: httpx.AsyncClient, body: bytes
) -> None:
    r = await hook_client.post(
        "/telegram/webhook", content=body, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
    )
    assert r.status_code == 422


def test_webhook_without_a_secret_refuses_to_start(db_url: str) -> None:
    with pytest.raises(ConfigError, match="WEBHOOK_SECRET"):
        make_settings(db_url, WEBHOOK_URL=HOOK).ensure_can_start()
    with pytest.raises(ConfigError, match="https"):
        make_settings(
            db_url, WEBHOOK_URL="http://x.org/h", WEBHOOK_SECRET=SECRET
        ).ensure_can_start()
