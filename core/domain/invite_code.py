"""Invite codes: 6 characters of Crockford's base32 alphabet (2^30 codes)."""

from __future__ import annotations

import secrets

from core.domain.errors import InvalidInviteCode

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 6
_READ_AS = str.maketrans({"I": "1", "L": "1", "O": "0"})
_DROPPED = str.maketrans("", "", " -\t")


def generate_invite_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def parse_invite_code(raw: str) -> str:
    """Normalise user input: case ignored, I and L read as 1, O as 0, spaces and hyphens dropped."""
    if not isinstance(raw, str) or len(raw) > 32:
        raise InvalidInviteCode()
    code = raw.translate(_DROPPED).upper().translate(_READ_AS)
    if len(code) != LENGTH or any(ch not in ALPHABET for ch in code):
        raise InvalidInviteCode()
    return code


def is_invite_code(raw: str) -> bool:
    try:
        parse_invite_code(raw)
    except InvalidInviteCode:
        return False
    return True
