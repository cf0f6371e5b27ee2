"""The bot's languages: gettext catalogs under ``bot/locales`` read with aiogram's ``I18n``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aiogram.utils.i18n import I18n

from core.domain.languages import RUSSIAN_SPEAKING

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
DOMAIN = "messages"
DEFAULT_LOCALE = "en"
LOCALES = ("en", "ru")
#: Telegram clients whose ``language_code`` gets the Russian command menu (the core's rule).
RUSSIAN_CLIENT_LANGUAGES = tuple(sorted(RUSSIAN_SPEAKING))


def make_i18n() -> I18n:
    return I18n(path=LOCALES_DIR, default_locale=DEFAULT_LOCALE, domain=DOMAIN)


@contextmanager
def use_locale(i18n: I18n, locale: str) -> Iterator[None]:
    """Render in ``locale`` outside the middleware (start-up, notifications, language switch)."""
    with i18n.context(), i18n.use_locale(locale):
        yield
