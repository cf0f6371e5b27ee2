"""Telling a user, in their language, that someone joined by their invite."""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter

from bot import texts
from bot.i18n import DEFAULT_LOCALE, make_i18n, use_locale
from bot.middlewares.retry_after import retries_after
from core.domain.entities import User

log = logging.getLogger(__name__)


class TelegramNotifier:
    """``core.ports.ReferralNotifier`` over Telegram. Best effort: it never raises.

    A 429 is waited out and the message sent once more (by the bot's session middleware when
    the bot came from ``create_bot``, else here); any other failure is logged and dropped.
    """

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self._i18n = make_i18n()

    async def referral_joined(self, referrer: User, referral: User) -> None:
        if referrer.telegram_id is None:
            return
        locale = referrer.language or DEFAULT_LOCALE
        if locale not in self._i18n.available_locales:
            locale = DEFAULT_LOCALE
        with use_locale(self._i18n, locale):
            text = texts.referral_joined(referral, referrer.referral_count)
        try:
            try:
                await self.bot.send_message(referrer.telegram_id, text)
            except TelegramRetryAfter as exc:
                if retries_after(self.bot):
                    raise
                await asyncio.sleep(exc.retry_after)
                await self.bot.send_message(referrer.telegram_id, text)
        except Exception:
            log.warning(
                "could not tell user %d about referral %d", referrer.id, referral.id, exc_info=True
            )
