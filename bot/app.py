"""Factories: the Bot, the FSM storage and the Dispatcher. Nothing is built at import time."""

from __future__ import annotations

import logging

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, DefaultKeyBuilder
from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.utils.i18n import I18n
from redis.asyncio import BlockingConnectionPool, Redis

from bot import errors, keyboards
from bot.handlers import build_router
from bot.i18n import DEFAULT_LOCALE, RUSSIAN_CLIENT_LANGUAGES, make_i18n, use_locale
from bot.isolation import OrderedRedisEventIsolation
from bot.middlewares.current_user import CurrentUser
from bot.middlewares.i18n import LocaleMiddleware
from bot.middlewares.metrics import CountUpdates
from bot.middlewares.retry_after import RetryAfterMiddleware
from bot.middlewares.scope import PrivateChatsOnly
from bot.middlewares.throttle import Throttle
from core.adapters.clock import SystemClock
from core.ports import Clock
from core.services import Services
from core.settings import ConfigError, Settings

log = logging.getLogger(__name__)

#: FSM data (the pending invite, the chosen language) outlives a silent user this long in Redis.
REDIS_DATA_TTL_SECONDS = 90 * 86400
REDIS_MAX_CONNECTIONS = 50
REDIS_POOL_TIMEOUT_SECONDS = 30


def api_server(settings: Settings) -> TelegramAPIServer:
    """``TELEGRAM_API_URL`` (a self-hosted ``telegram-bot-api`` or a test server), else Telegram."""
    if settings.telegram_api_url:
        return TelegramAPIServer.from_base(settings.telegram_api_url)
    return PRODUCTION


def create_bot(
    settings: Settings, *, session: BaseSession | None = None, wait_out_flood: bool = True
) -> Bot:
    """The Bot: HTML texts, no link previews; a 429 on a send waited out and retried once
    unless ``wait_out_flood`` is off (the worker's queue delays that chat instead)."""
    if settings.bot_token is None:
        raise ConfigError("BOT_TOKEN is not set: the Telegram bot is off")
    if session is None:
        session = AiohttpSession(api=api_server(settings))
    if wait_out_flood:
        session.middleware(RetryAfterMiddleware())
    return Bot(
        token=settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )


def _key_builder() -> DefaultKeyBuilder:
    return DefaultKeyBuilder(with_bot_id=True)


def create_storage(settings: Settings) -> BaseStorage:
    """Memory by default; aiogram's Redis storage when ``REDIS_URL`` is set."""
    if settings.redis_url is not None:
        # A blocking pool: when every connection is busy (a burst of updates, each holding an
        # isolation lock) an update waits for one instead of failing with MaxConnectionsError.
        pool = BlockingConnectionPool.from_url(
            settings.redis_url.get_secret_value(),
            max_connections=REDIS_MAX_CONNECTIONS,
            timeout=REDIS_POOL_TIMEOUT_SECONDS,
        )
        return RedisStorage(
            Redis(connection_pool=pool),
            key_builder=_key_builder(),
            data_ttl=REDIS_DATA_TTL_SECONDS,
        )
    return MemoryStorage()


def events_isolation_for(storage: BaseStorage) -> BaseEventIsolation:
    """One update at a time per user, so a contact and a code sent together stay in order."""
    if isinstance(storage, RedisStorage):
        return OrderedRedisEventIsolation(storage.redis, key_builder=_key_builder())
    return SimpleEventIsolation()


def create_dispatcher(
    services: Services,
    settings: Settings,
    storage: BaseStorage | None = None,
    *,
    clock: Clock | None = None,
    i18n: I18n | None = None,
    throttle: Throttle | None = None,
) -> Dispatcher:
    """A Dispatcher over a fresh router tree; ``services`` reach handlers as workflow data."""
    if storage is None:
        storage = create_storage(settings)
    i18n = i18n or make_i18n()
    dp = Dispatcher(
        storage=storage,
        events_isolation=events_isolation_for(storage),
        services=services,
        settings=settings,
        clock=clock or SystemClock(),
        i18n=i18n,
    )
    # Update level, in order: drop non-private chats, throttle, then look the user up.
    dp.update.outer_middleware(CountUpdates(services))
    dp.update.outer_middleware(PrivateChatsOnly())
    dp.update.outer_middleware(throttle or Throttle(settings.bot_throttle_per_second, i18n))
    dp.update.outer_middleware(CurrentUser())
    # Event level (every observer, the error handlers included): the language.
    LocaleMiddleware(i18n).setup(dp)
    errors.register(dp)
    dp.include_router(build_router())
    dp.startup.register(set_commands)
    return dp


async def set_commands(bot: Bot, i18n: I18n) -> None:
    """The command menu in English for everyone, in Russian for Russian-speaking clients."""
    try:
        with use_locale(i18n, DEFAULT_LOCALE):
            await bot.set_my_commands(keyboards.commands())
        with use_locale(i18n, "ru"):
            russian = keyboards.commands()
        for language in RUSSIAN_CLIENT_LANGUAGES:
            await bot.set_my_commands(russian, language_code=language)
    except TelegramAPIError:
        log.warning("could not set the command menu", exc_info=True)
