"""Counts every update the bot handles, by type and outcome (``referral_bot_updates_total``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update

from core.services import Services


class CountUpdates(BaseMiddleware):
    def __init__(self, services: Services) -> None:
        self._observe = services.metrics.bot_update

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        kind = event.event_type
        try:
            result = await handler(event, data)
        except Exception:
            self._observe(kind, False)
            raise
        self._observe(kind, True)
        return result
