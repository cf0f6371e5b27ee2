"""Rules for the names people give themselves."""

from __future__ import annotations

from core.domain.errors import InvalidName

_ALLOWED_PUNCTUATION = frozenset(" -'’")
MAX_NAME = 64


def clean_name(raw: str, field: str, key: str | None = None) -> str:
    """Trimmed, 1 to 64 characters: letters of any script, spaces, hyphens and apostrophes."""
    name = " ".join((raw or "").split())
    if not 1 <= len(name) <= MAX_NAME:
        raise InvalidName(f"{field} must be 1 to {MAX_NAME} characters long.", field=key)
    if not any(ch.isalpha() for ch in name) or any(
        not (ch.isalpha() or ch in _ALLOWED_PUNCTUATION) for ch in name
    ):
        raise InvalidName(
            f"{field} may contain only letters, spaces, hyphens and apostrophes.", field=key
        )
    return name


def name_from_telegram(raw: str | None) -> str | None:
    """A Telegram display name if it passes the rules, else nothing (never an error)."""
    if not raw:
        return None
    try:
        return clean_name(raw, "name")
    except InvalidName:
        return None
