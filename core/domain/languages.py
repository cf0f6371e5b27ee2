"""The languages the service speaks."""

from __future__ import annotations

from core.domain.errors import InvalidLanguage

SUPPORTED = ("en", "ru")
#: Telegram ``language_code`` values answered in Russian.
RUSSIAN_SPEAKING = frozenset({"ru", "uk", "be", "kk"})


def normalize_language(code: str | None) -> str:
    """Russian for ``ru``, ``uk``, ``be`` and ``kk`` (with any region), English otherwise."""
    base = (code or "").split("-")[0].split("_")[0].lower()
    return "ru" if base in RUSSIAN_SPEAKING else "en"


def parse_language(code: str) -> str:
    if code not in SUPPORTED:
        raise InvalidLanguage()
    return code
