"""Frozen dataclasses the core hands out. No ORM, no pydantic."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from core.domain.errors import DomainError
from core.domain.rewards import ZERO, ReferralStatus, RewardReason, RewardStatus


@dataclass(frozen=True, slots=True)
class User:
    id: int
    phone: str
    invite_code: str
    first_name: str | None
    last_name: str | None
    referrer_id: int | None
    referred_at: datetime | None
    telegram_id: int | None
    language: str | None
    referral_count: int
    created_at: datetime
    #: This user's own referral, as a referee (None: no invite activated).
    referral_status: ReferralStatus | None = None
    qualified_at: datetime | None = None
    #: How this user's referrals stand: ``referral_count`` in all, of which these many are
    #: qualified, flagged or rejected (the rest joined).
    qualified_count: int = 0
    flagged_count: int = 0
    rejected_count: int = 0
    #: The fraud signals this user's referral tripped, if any.
    referral_signals: tuple[str, ...] = ()
    campaign_id: int | None = None
    is_admin: bool = False

    @property
    def joined_count(self) -> int:
        return self.referral_count - self.qualified_count - self.flagged_count - self.rejected_count

    def as_referrer(self) -> Referrer:
        return Referrer(
            id=self.id,
            phone=self.phone,
            invite_code=self.invite_code,
            first_name=self.first_name,
            last_name=self.last_name,
        )


@dataclass(frozen=True, slots=True)
class Referrer:
    id: int
    phone: str
    invite_code: str
    first_name: str | None
    last_name: str | None


@dataclass(frozen=True, slots=True)
class Balance:
    """A user's rewards: ``available`` (the balance) and ``pending`` (held, not yet spendable)."""

    available: Decimal = ZERO
    pending: Decimal = ZERO
    #: When the earliest scheduled pending reward becomes available, if any is scheduled.
    next_available_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Profile:
    user: User
    referrer: Referrer | None
    referral_phones: tuple[str, ...]
    balance: Balance = Balance()


@dataclass(frozen=True, slots=True)
class Referral:
    id: int
    phone: str
    first_name: str | None
    last_name: str | None
    joined_at: datetime
    status: ReferralStatus = ReferralStatus.JOINED
    qualified_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ReferralPage:
    items: tuple[Referral, ...]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class OtpChallenge:
    id: int
    phone: str
    code_hash: str
    created_at: datetime
    expires_at: datetime
    attempts: int
    used_at: datetime | None


@dataclass(frozen=True, slots=True)
class PhoneGuard:
    """Brute-force state of one phone: consecutive failures and the current lock."""

    phone: str
    failures: int
    locks: int
    locked_until: datetime | None


@dataclass(frozen=True, slots=True)
class Activation:
    """The result of activating an invite: who activated whose code."""

    user: User
    referrer: Referrer


@dataclass(frozen=True, slots=True)
class LoginResult:
    user: User
    created: bool
    activation: Activation | None
    #: Why the invite of a best-effort login was not applied (``None``: applied, or none given).
    invite_refused: DomainError | None = None


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int


@dataclass(frozen=True, slots=True)
class RefreshRecord:
    jti: str
    family_id: str
    user_id: int
    expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class CodeSent:
    """What ``request_code`` tells its caller: where the code went and when a new one may follow.

    ``sent`` is false only from ``resend_code`` pressed during the cooldown: nothing was sent
    and ``resend_after`` is the time left.
    """

    phone: str
    expires_in: int
    resend_after: int
    sent: bool = True


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    id: int
    user_id: int
    amount: Decimal
    status: RewardStatus
    reason: RewardReason
    #: The referee the entry is about (for a referee's own reward, the user itself).
    referral_user_id: int | None
    #: The integrator's id of the event that produced it, if one did.
    event_id: str | None
    created_at: datetime
    #: When a pending entry becomes available; ``None`` while its referral awaits review.
    available_at: datetime | None
    note: str | None


@dataclass(frozen=True, slots=True)
class RewardPage:
    balance: Balance
    unit: str
    items: tuple[LedgerEntry, ...]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class EventOutcome:
    """What recording an integrator's event did (the same for a repeat of the event)."""

    event_id: str
    user_id: int
    referral_status: ReferralStatus | None
    rewards: tuple[LedgerEntry, ...]
    #: False when the event_id had been recorded before and nothing new was done.
    created: bool


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: int
    name: str
    #: The first characters of the key, enough to tell keys apart in a list.
    prefix: str
    scopes: frozenset[str]
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class NewApiKey:
    """A key just created: ``secret`` is shown this once and never stored."""

    key: ApiKey
    secret: str


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    id: int
    uid: str
    type: str
    payload: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An integrator's event as recorded."""

    id: int
    external_id: str
    type: str
    user_id: int
    amount: Decimal
    occurred_at: datetime
    referral_status: ReferralStatus | None


@dataclass(frozen=True, slots=True)
class UserRef:
    """How an integrator names a user: exactly one of the three."""

    id: int | None = None
    phone: str | None = None
    telegram_id: int | None = None


@dataclass(frozen=True, slots=True)
class UserSummary:
    user: User
    balance: Balance


@dataclass(frozen=True, slots=True)
class WebhookEndpoint:
    id: int
    url: str
    events: tuple[str, ...]
    description: str | None
    include_phones: bool
    enabled: bool
    created_at: datetime
    #: Since when every attempt has failed (None: the last one succeeded).
    failing_since: datetime | None
    disabled_at: datetime | None
    disabled_reason: str | None


@dataclass(frozen=True, slots=True)
class NewWebhookSecret:
    """An endpoint with its secret, shown in full only when made or rotated."""

    endpoint: WebhookEndpoint
    secret: str


@dataclass(frozen=True, slots=True)
class WebhookAttempt:
    attempted_at: datetime
    status_code: int | None
    duration_ms: int
    response: str | None
    error: str | None


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    id: int
    endpoint_id: int
    event_uid: str
    event_type: str
    status: str
    attempts: int
    queued_at: datetime
    next_attempt_at: datetime
    finished_at: datetime | None
    log: tuple[WebhookAttempt, ...] = ()


@dataclass(frozen=True, slots=True)
class DeliveryPage:
    items: tuple[WebhookDelivery, ...]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    """A delivery a worker holds (leased) to attempt now."""

    id: int
    endpoint_id: int
    url: str
    secret: str
    include_phones: bool
    event_uid: str
    event_type: str
    payload: dict[str, Any]
    event_created_at: datetime
    attempts: int
    queued_at: datetime
    failing_since: datetime | None


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """What an endpoint answered (``status_code`` None: no answer: refused, timeout, TLS...)."""

    status_code: int | None
    duration_ms: int
    response: str | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    """A Telegram message the worker is about to send."""

    id: int
    user_id: int
    telegram_id: int
    language: str | None
    kind: str
    params: dict[str, Any]
    attempts: int
    broadcast_id: int | None


@dataclass(frozen=True, slots=True)
class Campaign:
    id: int
    owner_id: int | None
    name: str
    slug: str
    created_at: datetime
    #: ``https://t.me/<bot>?start=<payload>``; None while the bot's username is unknown.
    link: str | None = None


@dataclass(frozen=True, slots=True)
class Click:
    id: int
    telegram_id: int
    invite_code: str | None
    campaign_id: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class FunnelCounts:
    clicks: int = 0
    logins: int = 0
    joined: int = 0
    qualified: int = 0
    rewards: Decimal = ZERO

    def rate(self, part: int, whole: int) -> float | None:
        return round(part / whole, 4) if whole else None


@dataclass(frozen=True, slots=True)
class Stats:
    since: datetime
    until: datetime
    total: FunnelCounts
    campaigns: tuple[tuple[Campaign, FunnelCounts], ...]


@dataclass(frozen=True, slots=True)
class LeaderboardEntry:
    rank: int
    user_id: int
    name: str
    count: int


@dataclass(frozen=True, slots=True)
class Leaderboard:
    period: str
    metric: str
    entries: tuple[LeaderboardEntry, ...]
    #: The caller's own place (None while they have no referral in the period).
    me: LeaderboardEntry | None
    contest: Contest | None = None


@dataclass(frozen=True, slots=True)
class Contest:
    id: int
    title: str
    starts_at: datetime
    ends_at: datetime
    metric: str
    prizes: tuple[str, ...]
    created_at: datetime
    created_by: str
    closed_at: datetime | None


@dataclass(frozen=True, slots=True)
class ContestStandings:
    contest: Contest
    entries: tuple[LeaderboardEntry, ...]
    #: Fixed at closing: (entry, prize) for each winner.
    winners: tuple[tuple[LeaderboardEntry, str | None], ...]


@dataclass(frozen=True, slots=True)
class AuditRecord:
    id: int
    actor: str
    action: str
    subject: str
    reason: str | None
    details: dict[str, Any] | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class FlaggedReferral:
    referee: User
    referrer: Referrer
    signals: tuple[str, ...]
