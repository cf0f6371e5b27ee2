"""The factories and the runner: bot, storage, dispatcher, ``referral bot``."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.fsm.storage.base import DefaultKeyBuilder, StorageKey
from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation
from aiogram.fsm.storage.redis import RedisStorage

from bot.app import create_bot, create_dispatcher, create_storage, events_isolation_for
from bot.isolation import OrderedRedisEventIsolation
from bot.middlewares.retry_after import RetryAfterMiddleware, retries_after
from bot.runner import run_polling
from core.runtime import serve_bot
from core.settings import ConfigError, Settings
from tests.bot.harness import BOT_TOKEN, Harness
from tests.conftest import REDIS_URL
from tests.fakes.telegram_server import FakeTelegram


def make(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


async def test_bot_talks_to_the_configured_api_server() -> None:
    bot = create_bot(make(BOT_TOKEN=BOT_TOKEN, TELEGRAM_API_URL="http://127.0.0.1:8081/"))
    try:
        assert isinstance(bot.session, AiohttpSession)
        assert bot.session.api.api_url(BOT_TOKEN, "getMe") == (
            f"http://127.0.0.1:8081/bot{BOT_TOKEN}/getMe"
        )
        assert retries_after(bot)
        assert any(isinstance(m, RetryAfterMiddleware) for m in bot.session.middleware)
    finally:
        await bot.session.close()


async def test_bot_talks_to_telegram_by_default() -> None:
    bot = create_bot(make(BOT_TOKEN=BOT_TOKEN))
    try:
        assert bot.session.api.api_url("T", "getMe") == "https://api.telegram.org/botT/getMe"
    finally:
        await bot.session.close()


def test_no_bot_without_a_token() -> None:
    with pytest.raises(ConfigError, match="BOT_TOKEN"):
        create_bot(make())


async def test_storage_is_in_memory_by_default() -> None:
    storage = create_storage(make())
    assert isinstance(storage, MemoryStorage)
    assert isinstance(events_isolation_for(storage), SimpleEventIsolation)


async def test_storage_is_redis_when_redis_url_is_set() -> None:
    storage = create_storage(make(REDIS_URL=REDIS_URL))
    try:
        assert isinstance(storage, RedisStorage)
        assert isinstance(storage.key_builder, DefaultKeyBuilder)
        assert storage.key_builder.with_bot_id
        isolation = events_isolation_for(storage)
        assert isinstance(isolation, OrderedRedisEventIsolation)
        assert isolation.redis is storage.redis
    finally:
        await storage.close()


async def test_redis_isolation_keeps_a_users_updates_in_order() -> None:
    storage = create_storage(make(REDIS_URL=REDIS_URL))
    isolation = events_isolation_for(storage)
    assert isinstance(isolation, OrderedRedisEventIsolation)
    key = StorageKey(bot_id=1, chat_id=77, user_id=77)
    handled: list[int] = []

    async def update(n: int) -> None:
        async with isolation.lock(key):
            await asyncio.sleep(0.01 * (5 - n))  # the first ones are the slowest
            handled.append(n)

    try:
        await asyncio.gather(*(update(n) for n in range(5)))
        assert handled == [0, 1, 2, 3, 4]
        assert isolation._local == {}  # idle keys are forgotten
    finally:
        await storage.close()


async def test_each_dispatcher_gets_its_own_router_tree(tg: Harness) -> None:
    # A second Dispatcher over the same services works: no router is attached twice.
    second = create_dispatcher(tg.services, make(BOT_TOKEN=BOT_TOKEN))
    try:
        assert second.sub_routers[0] is not tg.dp.sub_routers[0]
        await tg.person().send("/help")
        assert tg.last_text().startswith("<b>How it works</b>")
    finally:
        await second.fsm.close()


async def test_run_bot_without_a_token_says_so_and_exits_2(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="bot.runner"):
        assert await serve_bot(make()) == 2
    assert "BOT_TOKEN is not set" in caplog.text


async def test_run_bot_with_a_malformed_token_exits_2(
    caplog: pytest.LogCaptureFixture, tmp_path: Any
) -> None:
    settings = make(BOT_TOKEN="not-a-token", DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/x.db")
    assert await serve_bot(settings) == 2
    assert "BOT_TOKEN is malformed" in caplog.text


async def test_run_bot_refused_by_the_bot_api_exits_2(
    caplog: pytest.LogCaptureFixture, tmp_path: Any
) -> None:
    async with FakeTelegram() as fake:
        settings = make(
            BOT_TOKEN="42:revoked-token",
            TELEGRAM_API_URL=fake.base_url,
            DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/x.db",
        )
        with caplog.at_level(logging.ERROR, logger="bot.runner"):
            assert await serve_bot(settings) == 2
    assert "the Bot API refused to start the bot" in caplog.text
    assert "Unauthorized" in caplog.text


async def test_run_bot_with_a_webhook_registers_it_and_the_command_menus(tmp_path: Any) -> None:
    async with FakeTelegram() as fake:
        settings = make(
            BOT_TOKEN=fake.token,
            TELEGRAM_API_URL=fake.base_url,
            WEBHOOK_URL="https://bot.example.org/telegram/webhook",
            WEBHOOK_SECRET="s3cret-token",
            DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/x.db",
        )
        assert await serve_bot(settings) == 0
        assert fake.webhook.url == "https://bot.example.org/telegram/webhook"
        assert fake.webhook.secret_token == "s3cret-token"
        assert set(fake.webhook.allowed_updates or ()) == {
            "message",
            "edited_message",
            "callback_query",
        }
        assert fake.commands("uk")[0]["description"] == "Начать или войти"
        assert fake.calls_to("getUpdates") == []


async def test_run_bot_refuses_a_webhook_without_a_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = make(BOT_TOKEN=BOT_TOKEN, WEBHOOK_URL="https://bot.example.org/hook")
    assert await serve_bot(settings) == 2
    assert "WEBHOOK_SECRET" in caplog.text


async def test_polling_stands_aside_in_webhook_mode(tg: Harness) -> None:
    settings = make(BOT_TOKEN=BOT_TOKEN, WEBHOOK_URL="https://bot.example.org/hook")
    await run_polling(settings, tg.services, handle_signals=False)  # returns at once
