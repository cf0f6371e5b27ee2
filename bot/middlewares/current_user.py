"""The core user linked to the sender's Telegram account, as ``data["user"]`` (or ``None``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User

from core.services import Services


class CurrentUser(BaseMiddleware):
    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        sender: User | None = data.get("event_from_user")
        services: Services = data["services"]
        data["user"] = (
            await services.accounts.user_by_telegram(sender.id) if sender is not None else None
        )
        return await handler(event, data)
