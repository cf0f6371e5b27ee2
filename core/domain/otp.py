"""One-time codes: generation and keyed hashing. The code itself is never stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from core.domain.errors import InvalidCode

_MESSAGES = {
    "en": "Your code: {code}",
    "ru": "Ваш код: {code}",
}


def generate_otp(length: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(length))


def derive_otp_key(secret_key: str) -> bytes:
    """A key for hashing codes, derived from ``SECRET_KEY`` so it differs from the JWT key."""
    return hmac.new(secret_key.encode(), b"referral-service/otp-hash/v1", hashlib.sha256).digest()


def hash_otp(key: bytes, phone: str, code: str) -> str:
    """HMAC-SHA256 over the phone and the code: a leaked table cannot be brute-forced offline."""
    return hmac.new(key, f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def otp_matches(key: bytes, phone: str, code: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_otp(key, phone, code), stored_hash)


def parse_otp(raw: str, length: int) -> str:
    code = (raw or "").strip().replace(" ", "").replace("-", "")
    if len(code) != length or not code.isascii() or not code.isdigit():
        raise InvalidCode(f"The code is {length} digits, as in the SMS.")
    return code


def otp_message(code: str, language: str | None) -> str:
    """The SMS text in the user's language; ASCII digits, well within one SMS."""
    return _MESSAGES.get(language or "en", _MESSAGES["en"]).format(code=code)
