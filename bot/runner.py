"""Running the bot over services the composition root built: long polling, or registering the
webhook that the API process serves."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiogram import Dispatcher
from aiogram.exceptions import TelegramAPIError
from aiogram.utils.token import TokenValidationError, validate_token

from bot.app import create_bot, create_dispatcher, set_commands
from bot.webhook import register_webhook
from core.services import Services
from core.settings import Settings

log = logging.getLogger(__name__)


def start_problem(settings: Settings) -> str | None:
    """Why the bot cannot start as configured (checked before anything is built), or None."""
    if settings.bot_token is None:
        return "BOT_TOKEN is not set: the Telegram bot is off. Set BOT_TOKEN to run it."
    try:
        validate_token(settings.bot_token.get_secret_value())
    except TokenValidationError:
        return "BOT_TOKEN is malformed: expected <digits>:<secret> as given by @BotFather"
    if settings.webhook_url and settings.webhook_secret is None:
        return "WEBHOOK_URL is set without WEBHOOK_SECRET: refusing to register the webhook"
    return None


async def run_polling(
    settings: Settings, services: Services, *, handle_signals: bool = True
) -> None:
    """Poll until stopped (SIGINT/SIGTERM with ``handle_signals``, else cancel the task)."""
    if settings.webhook_url:
        log.info("WEBHOOK_URL is set: updates reach the bot through the API's webhook, not polling")
        return
    bot = create_bot(settings)
    dp = create_dispatcher(services, settings)
    try:
        log.info(
            "Telegram bot polling %s with %s storage",
            settings.telegram_api_url or "api.telegram.org",
            "Redis" if settings.redis_url else "in-memory",
        )
        # A webhook left from an earlier deployment would make every getUpdates fail.
        await bot.delete_webhook(drop_pending_updates=False)
        polling = asyncio.ensure_future(
            dp.start_polling(
                bot,
                handle_signals=handle_signals,
                allowed_updates=dp.resolve_used_update_types(),
                close_bot_session=True,
            )
        )
        try:
            await asyncio.shield(polling)
        except asyncio.CancelledError:
            # Cancelling start_polling itself would orphan its polling task: stop it properly.
            await _stop(dp, polling)
            raise
    finally:
        await dp.fsm.close()
        await bot.session.close()


async def _stop(dp: Dispatcher, polling: asyncio.Future[None]) -> None:
    try:
        await dp.stop_polling()
    except RuntimeError:  # not started yet
        polling.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await polling


async def register_webhook_mode(settings: Settings, services: Services) -> None:
    """Webhook mode: set the command menus and point Telegram at the API's webhook route."""
    bot = create_bot(settings)
    dp = create_dispatcher(services, settings)
    try:
        await set_commands(bot, dp["i18n"])
        await register_webhook(settings, bot, dp)
    finally:
        await dp.fsm.close()
        await bot.session.close()


async def run_bot(settings: Settings, services: Services) -> int:
    """``referral bot``: long polling until stopped, or (with ``WEBHOOK_URL``) registering the
    webhook. 0 when done, 2 when the Bot API refuses the bot.
    """
    try:
        if settings.webhook_url:
            await register_webhook_mode(settings, services)
        else:
            await run_polling(settings, services)
    except TelegramAPIError as exc:
        log.error("the Bot API refused to start the bot: %s", exc)
        return 2
    return 0
