"""A Telegram sender whose target is set after the services are built (the bot harness's)."""

from __future__ import annotations

from core.domain.entities import QueuedMessage
from core.ports import SendFailed, TelegramSender


class ForwardingSender:
    def __init__(self, target: TelegramSender | None = None) -> None:
        self.target = target

    async def send(self, message: QueuedMessage) -> None:
        if self.target is None:
            raise SendFailed("no Telegram in this test")
        await self.target.send(message)
