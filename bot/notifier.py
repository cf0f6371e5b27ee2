"""The worker's way to Telegram: ``core.ports.TelegramSender`` over an aiogram ``Bot``.

Each message is rendered when it is sent, in the recipient's language at that moment, and
Telegram's answers become the port's outcomes: blocked (never again), wait (that chat only),
or failed (try again later, or never for a text Telegram refuses).
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)

from bot import texts
from bot.i18n import DEFAULT_LOCALE, make_i18n, use_locale
from core.domain.entities import QueuedMessage
from core.ports import RecipientBlocked, SendFailed, SendLater

log = logging.getLogger(__name__)

#: Telegram's "this chat is gone" answers: treated like a block.
_GONE = ("chat not found", "user is deactivated", "bot was blocked", "PEER_ID_INVALID")


class TelegramNotifier:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self._i18n = make_i18n()

    def render(self, message: QueuedMessage) -> str:
        locale = message.language or DEFAULT_LOCALE
        if locale not in self._i18n.available_locales:
            locale = DEFAULT_LOCALE
        with use_locale(self._i18n, locale):
            return texts.notification(message.kind, message.params)

    async def send(self, message: QueuedMessage) -> None:
        text = self.render(message)
        try:
            await self.bot.send_message(message.telegram_id, text)
        except TelegramForbiddenError as exc:
            raise RecipientBlocked(exc.message) from exc
        except TelegramRetryAfter as exc:
            raise SendLater(exc.retry_after) from exc
        except (TelegramBadRequest, TelegramNotFound) as exc:
            if any(gone in exc.message for gone in _GONE):
                raise RecipientBlocked(exc.message) from exc
            raise SendFailed(exc.message, permanent=True) from exc
        except (TelegramNetworkError, TelegramServerError, TimeoutError, OSError) as exc:
            raise SendFailed(f"{type(exc).__name__}: {exc}") from exc
