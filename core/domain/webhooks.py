"""Integrators' webhook endpoints: addresses, subscriptions, secrets and the retry schedule."""

from __future__ import annotations

import base64
import random
import secrets
from collections.abc import Iterable, Sequence
from datetime import timedelta
from urllib.parse import urlsplit

from core.domain.errors import InvalidInput
from core.domain.events import TYPES

ALL_EVENTS = "*"
MAX_URL = 2000
#: Seconds after the first attempt (which is immediate) until each retry, before jitter;
#: after the last, every two hours until the delivery ages out (WEBHOOK_MAX_AGE_SECONDS).
RETRY_SCHEDULE = (5, 30, 120, 600, 1800, 3600)
RETRY_EVERY = 7200
JITTER = 0.2
#: An answer within this many seconds counts; later is a failure.
DELIVERY_TIMEOUT_SECONDS = 10.0
RESPONSE_EXCERPT = 1024


def parse_webhook_url(raw: str, *, allow_http: bool) -> str:
    url = (raw or "").strip()
    if not url or len(url) > MAX_URL:
        raise InvalidInput(f"url must be 1 to {MAX_URL} characters.", field="url")
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    schemes = ("https", "http") if allow_http else ("https",)
    if parts is None or parts.scheme not in schemes or not parts.hostname:
        raise InvalidInput(
            "url must be an https:// URL"
            + (" (http:// is allowed in development)" if allow_http else "")
            + ", e.g. https://example.org/hooks/referrals.",
            field="url",
        )
    if parts.username or parts.password:
        raise InvalidInput("url must not carry a user name or password.", field="url")
    return url


def parse_event_filter(raw: Iterable[str]) -> tuple[str, ...]:
    """Known event types, or ``["*"]`` for every event."""
    chosen = tuple(dict.fromkeys(str(e).strip() for e in raw))
    if chosen == (ALL_EVENTS,):
        return chosen
    unknown = [e for e in chosen if e not in TYPES]
    if not chosen or unknown:
        raise InvalidInput(
            'events is ["*"] or a list of: '
            + ", ".join(TYPES)
            + (f"; unknown: {', '.join(unknown)}." if unknown else "."),
            field="events",
        )
    return chosen


def subscribed(events: Sequence[str], event_type: str) -> bool:
    return ALL_EVENTS in events or event_type in events


def generate_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 24 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def retry_delay(attempts: int, rng: random.Random | None = None) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt, with ±20% jitter."""
    base = RETRY_SCHEDULE[attempts - 1] if attempts <= len(RETRY_SCHEDULE) else RETRY_EVERY
    spread = (rng or random).uniform(1 - JITTER, 1 + JITTER)
    return timedelta(seconds=base * spread)


def parse_description(raw: str | None) -> str | None:
    if raw is None:
        return None
    text = " ".join(raw.split())
    if len(text) > 200:
        raise InvalidInput("description is at most 200 characters.", field="description")
    return text or None
