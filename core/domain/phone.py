"""Phone numbers: parsed and normalised to E.164 with ``phonenumbers``."""

from __future__ import annotations

from collections.abc import Iterable

import phonenumbers

from core.domain.errors import InvalidPhone, PhoneNotAllowed

DEFAULT_REGION = "RU"


def _parse(text: str) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(text, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def normalize_phone(raw: str, allowed_prefixes: Iterable[str] = ("+7",)) -> str:
    """Return ``raw`` as an E.164 string (``+79991234567``) or raise.

    ``+7 (999) 123-45-67``, ``8 999 123 45 67`` and ``79991234567`` are one number: without a
    plus, the digits are read as a Russian number first (a leading ``8`` is the trunk prefix)
    and, if that is not a valid number, as an international one without its plus, which is how
    Telegram hands over a shared contact (``447911123456``).
    """
    text = (raw or "").strip()
    if not text or len(text) > 32:
        raise InvalidPhone()
    number = _parse(text)
    if number is None and not text.startswith("+"):
        digits = "".join(ch for ch in text if ch.isdigit())
        if digits and len(digits) <= 15:
            number = _parse("+" + digits)
    if number is None:
        try:
            phonenumbers.parse(text, DEFAULT_REGION)
        except phonenumbers.NumberParseException:
            raise InvalidPhone() from None
        raise InvalidPhone(
            "This is not a valid phone number: check the digits and the country code, "
            "e.g. +79991234567."
        )
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    prefixes = tuple(allowed_prefixes)
    if prefixes and not any(e164.startswith(p) for p in prefixes):
        raise PhoneNotAllowed(
            "Numbers starting with "
            + e164[: 1 + len(str(number.country_code))]
            + " are not served; allowed: "
            + ", ".join(prefixes)
            + "."
        )
    return e164


def phone_prefix(e164: str, digits: int = 7) -> str:
    """The first ``digits`` digits of an E.164 number, with the plus: the pumping caps' unit."""
    return e164[: 1 + digits]


def mask_phone(e164: str) -> str:
    """``+79991234567`` → ``+7999***4567``: enough to recognise, not enough to dial."""
    if len(e164) < 8:
        return "***"
    return e164[:5] + "*" * (len(e164) - 9) + e164[-4:]
