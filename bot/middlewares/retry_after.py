"""Session middleware: a send answered with 429 is waited out and retried once."""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import GetUpdates, Response, TelegramMethod
from aiogram.methods.base import TelegramType

log = logging.getLogger(__name__)

#: A longer flood wait is not waited out inside an update: the error goes to the handlers.
MAX_WAIT_SECONDS = 30


class RetryAfterMiddleware(BaseRequestMiddleware):
    def __init__(self, max_wait: float = MAX_WAIT_SECONDS) -> None:
        self.max_wait = max_wait

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        try:
            return await make_request(bot, method)
        except TelegramRetryAfter as exc:
            # getUpdates has its own back-off in the polling loop.
            if isinstance(method, GetUpdates) or exc.retry_after > self.max_wait:
                raise
            log.warning(
                "flood control on %s: waiting %d s and retrying once",
                type(method).__name__,
                exc.retry_after,
            )
            await asyncio.sleep(exc.retry_after)
            return await make_request(bot, method)


def retries_after(bot: Bot) -> bool:
    """Whether this bot's session already retries a 429 once."""
    return any(isinstance(m, RetryAfterMiddleware) for m in bot.session.middleware)
