"""What an integrator's event may look like."""

from __future__ import annotations

import re

from core.domain.errors import InvalidEvent

MAX_EVENT_ID = 128
_EVENT_TYPE = re.compile(r"[a-z0-9][a-z0-9_.:-]{0,63}")


def parse_event_id(raw: str) -> str:
    """1 to 128 printable characters, as the integrator chose them (kept verbatim)."""
    if not isinstance(raw, str) or not 1 <= len(raw) <= MAX_EVENT_ID or not raw.isprintable():
        raise InvalidEvent(
            f"event_id must be 1 to {MAX_EVENT_ID} printable characters.", field="event_id"
        )
    return raw


def parse_event_type(raw: str) -> str:
    """Lower-case letters, digits and ``_ . : -``, at most 64 characters: ``purchase``."""
    if not isinstance(raw, str) or not _EVENT_TYPE.fullmatch(raw):
        raise InvalidEvent(
            "type must be 1 to 64 lower-case letters, digits, '_', '.', ':' or '-', "
            "starting with a letter or digit, e.g. purchase.",
            field="type",
        )
    return raw
