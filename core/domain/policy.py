"""The numbers the use cases follow: plain frozen values, built from the settings by
``core.settings`` and handed to the services by the composition root.

A service never reads the settings module: it receives one of these.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class OtpPolicy:
    """One-time codes: their shape, life, and the per-phone limits around them."""

    length: int
    ttl_seconds: int
    max_attempts: int
    resend_seconds: int
    sends_per_hour: int
    sends_per_day: int
    lock_after_failures: int
    lock_base_seconds: int
    lock_max_seconds: int


@dataclass(frozen=True, slots=True)
class LimitPolicy:
    """Defences against SMS pumping, on top of the per-phone rules of ``OtpPolicy``."""

    allowed_prefixes: tuple[str, ...]
    client_requests_per_hour: int
    prefix_digits: int
    prefix_numbers_per_hour: int
    global_sends_per_day: int
    watch_min_sent: int
    watch_min_conversion: float
    watch_interval_seconds: int


@dataclass(frozen=True, slots=True)
class TokenPolicy:
    """JWTs: the signing key, the claims every token carries, and how long each kind lives."""

    secret: str
    issuer: str
    audience: str
    access_ttl_seconds: int
    refresh_ttl_seconds: int
    refresh_reuse_grace_seconds: int
