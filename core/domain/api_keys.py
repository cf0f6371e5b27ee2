"""Integrators' API keys: drawn with ``secrets``, stored only as a keyed hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable

from core.domain.errors import InvalidInput

PREFIX = "rk_"
#: What a key may do. ``admin`` also covers the operator's API.
SCOPES = ("events:write", "users:read", "admin")
SHOWN_PREFIX = 10  # characters of the key kept to tell keys apart ("rk_1a2b3c4")


def generate_api_key() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def derive_api_key_hasher(secret_key: str) -> bytes:
    """A key for hashing API keys, derived from ``SECRET_KEY`` (apart from the JWT and OTP keys)."""
    return hmac.new(secret_key.encode(), b"referral-service/api-key/v1", hashlib.sha256).digest()


def hash_api_key(hasher: bytes, key: str) -> str:
    """HMAC-SHA256: a leaked table gives neither the keys nor a way to test guesses offline."""
    return hmac.new(hasher, key.encode(), hashlib.sha256).hexdigest()


def parse_scopes(raw: Iterable[str]) -> frozenset[str]:
    scopes = frozenset(s.strip() for s in raw if s.strip())
    unknown = sorted(scopes - set(SCOPES))
    if not scopes or unknown:
        raise InvalidInput(
            f"Scopes are a comma-separated choice of {', '.join(SCOPES)}"
            + (f"; unknown: {', '.join(unknown)}." if unknown else "."),
            field="scopes",
        )
    return scopes


def parse_key_name(raw: str) -> str:
    name = " ".join((raw or "").split())
    if not 1 <= len(name) <= 64:
        raise InvalidInput("A key's name is 1 to 64 characters.", field="name")
    return name
