"""The numbers the use cases follow: plain frozen values, built from the settings by
``core.settings`` and handed to the services by the composition root.

A service never reads the settings module: it receives one of these.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


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


@dataclass(frozen=True, slots=True)
class RewardPolicy:
    """The referral program: what a join and a qualifying event earn, and for whom.

    Amounts are ``Decimal`` with two places; percents are of the event's amount.
    """

    unit: str
    #: The event type that qualifies a referral; ``None``: a referral qualifies when it joins.
    qualifying_event: str | None
    referrer_on_join: Decimal
    referee_on_join: Decimal
    referrer_fixed: Decimal
    referrer_percent: Decimal
    referee_fixed: Decimal
    referee_percent: Decimal
    #: The percent rules apply to each later qualifying event too, not only the first.
    every_event: bool
    level2_percent: Decimal
    hold_seconds: int
    #: The most one referrer may earn per rolling day; 0 is no cap.
    referrer_daily_cap: Decimal

    def as_dict(self) -> dict[str, str | int | bool | None]:
        """The rules as plain JSON values (amounts as strings), stored with what they produced."""
        return {
            "unit": self.unit,
            "qualifying_event": self.qualifying_event,
            "referrer_on_join": str(self.referrer_on_join),
            "referee_on_join": str(self.referee_on_join),
            "referrer_fixed": str(self.referrer_fixed),
            "referrer_percent": str(self.referrer_percent),
            "referee_fixed": str(self.referee_fixed),
            "referee_percent": str(self.referee_percent),
            "every_event": self.every_event,
            "level2_percent": str(self.level2_percent),
            "hold_seconds": self.hold_seconds,
            "referrer_daily_cap": str(self.referrer_daily_cap),
        }


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    """How the worker delivers the outbox: webhooks and Telegram messages."""

    #: A webhook is retried for this long after it was queued, then marked failed.
    webhook_max_age_seconds: int
    #: An endpoint whose every attempt failed for this long is disabled.
    webhook_disable_after_seconds: int
    #: How long a worker holds a delivery or a message it is working on.
    lease_seconds: int
    #: Telegram's limits: messages per second in all, and seconds between two to one chat.
    telegram_per_second: float
    telegram_chat_interval_seconds: float


@dataclass(frozen=True, slots=True)
class GrowthPolicy:
    """Attribution of deep-link clicks, and the thresholds of the fraud signals."""

    attribution_window_days: int
    fraud_referrals_per_hour: int
    fraud_same_prefix_share: float
    fraud_same_prefix_min: int
    fraud_fast_qualify_seconds: int
    fraud_shared_client: bool
    prefix_digits: int
