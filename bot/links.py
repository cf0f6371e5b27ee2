"""Deep links: ``https://t.me/<bot>?start=<payload>`` (an invite code, a campaign, or both)."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError

from core.settings import Settings

log = logging.getLogger(__name__)


async def invite_link(bot: Bot, code: str) -> str:
    me = await bot.me()  # cached by aiogram after the first getMe
    if not me.username:
        raise RuntimeError("getMe returned no username: deep links need one")
    return f"https://t.me/{me.username}?start={code}"


class BotLinks:
    """``core.ports.InviteLinks`` for any process: the bot's username from ``BOT_USERNAME``,
    else asked of Telegram once (``getMe``) when ``BOT_TOKEN`` is set; no link without either."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._username = settings.bot_username
        self._bot: Bot | None = None
        self._warned = False

    async def url(self, payload: str) -> str | None:
        username = await self._resolve()
        return f"https://t.me/{username}?start={payload}" if username else None

    async def _resolve(self) -> str | None:
        if self._username or self._settings.bot_token is None:
            return self._username
        if self._bot is None:
            from bot.app import create_bot

            self._bot = create_bot(self._settings)
        try:
            me = await self._bot.me()
        except (TelegramAPIError, OSError, TimeoutError):
            if not self._warned:
                self._warned = True
                log.warning("could not ask Telegram for the bot's username; set BOT_USERNAME")
            return None
        self._username = me.username
        return self._username

    async def aclose(self) -> None:
        if self._bot is not None:
            await self._bot.session.close()
