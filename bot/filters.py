"""Filters shared by the feature routers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiogram.filters import Filter
from aiogram.types import Message
from aiogram.utils.i18n import I18n

from bot import texts
from core.domain.entities import User


class LoggedIn(Filter):
    """The sender's Telegram account is linked to a core user (``data["user"]``)."""

    async def __call__(self, event: Any, user: User | None = None) -> bool:
        return user is not None


class NotLoggedIn(Filter):
    async def __call__(self, event: Any, user: User | None = None) -> bool:
        return user is None


class Button(Filter):
    """A reply-keyboard button, in whichever language the keyboard was drawn."""

    def __init__(self, *labels: Callable[[], str]) -> None:
        self._labels = labels
        self._variants: frozenset[str] | None = None

    def variants(self, i18n: I18n) -> frozenset[str]:
        if self._variants is None:
            found: set[str] = set()
            for locale in i18n.available_locales or (i18n.default_locale,):
                with i18n.use_locale(locale):
                    found.update(label() for label in self._labels)
            self._variants = frozenset(found)
        return self._variants

    async def __call__(self, message: Message, i18n: I18n) -> bool:
        return message.text is not None and message.text in self.variants(i18n)


def menu_buttons() -> Button:
    """Any button of the main menu (so a step's text input never swallows one)."""
    return Button(
        texts.btn_profile,
        texts.btn_invite_link,
        texts.btn_referrals,
        texts.btn_enter_code,
        texts.btn_language,
        texts.btn_help,
        texts.btn_cancel,
    )
