"""The language of each update: the account's saved language, else the one chosen before
login (FSM data), else Telegram's ``language_code`` (Russian for ru/uk/be/kk)."""

from __future__ import annotations

import logging
from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.types import TelegramObject
from aiogram.types import User as TelegramUser
from aiogram.utils.i18n import I18nMiddleware

from bot.states import LOCALE
from core.domain.entities import User
from core.domain.languages import normalize_language

log = logging.getLogger(__name__)


class LocaleMiddleware(I18nMiddleware):
    """Also puts the chosen locale in ``data["locale"]`` for handlers that pass it to the core."""

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        locale = await self._resolve(data)
        data["locale"] = locale
        return locale

    async def _resolve(self, data: dict[str, Any]) -> str:
        user: User | None = data.get("user")
        if user is not None and user.language in self.i18n.available_locales:
            return user.language
        state: FSMContext | None = data.get("state")
        if state is not None:
            try:
                chosen = (await state.get_data()).get(LOCALE)
            except Exception:  # the storage is down: the error handler still needs a language
                log.warning("could not read the FSM data for the locale", exc_info=True)
                chosen = None
            if isinstance(chosen, str) and chosen in self.i18n.available_locales:
                return chosen
        sender: TelegramUser | None = data.get("event_from_user")
        return normalize_language(sender.language_code if sender else None)
