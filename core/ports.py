"""The core's only ways out: small Protocols the adapters (``db``, SMS senders, the bot) fill."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from types import TracebackType
from typing import Any, Protocol, Self

from core.domain.entities import (
    ApiKey,
    AuditRecord,
    Balance,
    Campaign,
    ClaimedDelivery,
    Click,
    Contest,
    DeliveryResult,
    FunnelCounts,
    LedgerEntry,
    OtpChallenge,
    OutboxEvent,
    PhoneGuard,
    QueuedMessage,
    Referral,
    Referrer,
    RefreshRecord,
    StoredEvent,
    User,
    WebhookDelivery,
    WebhookEndpoint,
)
from core.domain.rewards import ReferralStatus, RewardReason, RewardStatus


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SmsSender(Protocol):
    async def send(self, phone: str, text: str) -> None:
        """Deliver ``text`` to ``phone`` (E.164) or raise ``SmsDeliveryFailed``."""
        ...


class Metrics(Protocol):
    """What the service counts. ``core.adapters.metrics.PrometheusMetrics`` fills it."""

    # ----- the core's use cases ------------------------------------------------------------
    def codes_sent(self) -> None:
        """A code left through the SMS sender."""
        ...

    def codes_failed(self) -> None:
        """The SMS sender refused or failed."""
        ...

    def logged_in(self, *, created: bool) -> None:
        """A successful login; ``created`` on the first one of a phone."""
        ...

    def login_failed(self) -> None:
        """A login refused for a wrong, expired or used code, or a lock."""
        ...

    def activated(self) -> None:
        """An invite code was activated."""
        ...

    # ----- the front ends ------------------------------------------------------------------
    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        """One answered HTTP request; ``route`` is the template, never the raw path."""
        ...

    def bot_update(self, kind: str, ok: bool) -> None:
        """One Telegram update handled; ``kind`` is its type (``message``, ...)."""
        ...

    def render(self) -> tuple[bytes, str]:
        """The body and the content type of ``GET /metrics``."""
        ...

    # ----- the worker ----------------------------------------------------------------------
    def webhook_delivery(self, outcome: str) -> None:
        """One webhook attempt: ``delivered``, ``retry`` or ``failed``."""
        ...

    def telegram_message(self, outcome: str) -> None:
        """One Telegram send: ``sent``, ``blocked``, ``retry``, ``failed``."""
        ...

    def outbox_lag(self, seconds: float) -> None:
        """The age of the oldest event not yet delivered (0 when none waits)."""
        ...


class WebhookSender(Protocol):
    async def send(
        self, url: str, secret: str, event_uid: str, body: str, now: datetime
    ) -> DeliveryResult:
        """POST ``body`` signed per Standard Webhooks; never raises for the endpoint's faults."""
        ...


class RecipientBlocked(Exception):
    """Telegram says the user blocked the bot (or the chat is gone): never send again."""


class SendLater(Exception):
    """Telegram asks to wait ``retry_after`` seconds before writing to this chat again."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


class SendFailed(Exception):
    """The message could not be sent now (Telegram down, a network fault); try again later.
    ``permanent``: it never will be (a text Telegram refuses)."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


class TelegramSender(Protocol):
    async def send(self, message: QueuedMessage) -> None:
        """Render ``message`` in the recipient's language and send it; raise
        ``RecipientBlocked``, ``SendLater`` or ``SendFailed`` when it did not go."""
        ...


class UserRepository(Protocol):
    async def get(self, user_id: int, *, for_update: bool = False) -> User | None: ...
    async def get_by_phone(self, phone: str) -> User | None: ...
    async def get_by_invite_code(self, code: str) -> User | None: ...
    async def get_by_telegram_id(self, telegram_id: int) -> User | None: ...
    async def get_with_referrer(self, user_id: int) -> tuple[User, Referrer | None] | None:
        """The user and whoever's code they activated, in one read."""
        ...

    async def create_if_absent(
        self,
        *,
        phone: str,
        invite_code: str,
        now: datetime,
        first_name: str | None,
        last_name: str | None,
        language: str | None,
    ) -> User | None:
        """Insert a user unless the phone or the invite code exists; the new user, or None."""
        ...

    async def lock_referral_graph(self) -> None:
        """Serialise invite activations for the rest of the transaction."""
        ...

    async def chain_reaches(self, start_id: int, target_id: int) -> bool:
        """Whether following referrers up from ``start_id`` reaches ``target_id``."""
        ...

    async def set_referrer_once(self, user_id: int, referrer_id: int, now: datetime) -> bool:
        """Set the referrer if none is set (and bump the referrer's count); True if set."""
        ...

    async def set_referral_status(
        self, user_id: int, status: ReferralStatus, qualified_at: datetime | None
    ) -> None:
        """The user's own referral status (as a referee) and when it qualified."""
        ...

    async def count_statuses(
        self, referrer_id: int, *, qualified: int = 0, flagged: int = 0, rejected: int = 0
    ) -> None:
        """Add to the referrer's counts of referrals by status (negative to take away)."""
        ...

    async def set_signals(self, user_id: int, signals: Sequence[str]) -> None: ...
    async def set_campaign(self, user_id: int, campaign_id: int) -> None: ...
    async def record_client(self, user_id: int, client: str, *, first: bool) -> None:
        """The client of a login (``ip:...``, ``tg:...``); ``first``: of the first one too."""
        ...

    async def clients(self, user_id: int) -> set[str]:
        """The clients of the user's first and latest logins."""
        ...

    async def referrals_since(self, referrer_id: int, since: datetime) -> int: ...
    async def referrals_with_prefix(self, referrer_id: int, prefix: str) -> int: ...
    async def detach_referrer(self, user_id: int) -> None:
        """Clear the user's referrer and everything about that referral."""
        ...

    async def admins(self) -> Sequence[User]:
        """The users granted the operator's console."""
        ...

    async def referrals_with_status(
        self, status: str, limit: int, after: tuple[datetime, int] | None
    ) -> Sequence[tuple[User, Referrer]]: ...

    async def set_admin(self, user_id: int, is_admin: bool) -> None: ...

    async def count_referral(self, referrer_id: int, delta: int) -> None:
        """Add to the referrer's ``referral_count``."""
        ...

    async def update_names(self, user_id: int, first_name: str, last_name: str | None) -> None: ...
    async def set_language(self, user_id: int, language: str) -> None: ...
    async def link_telegram(self, user_id: int, telegram_id: int) -> None:
        """Link ``telegram_id`` to this user, unlinking it from any other user."""
        ...

    async def unlink_telegram(self, telegram_id: int) -> None: ...

    async def referral_phones(self, user_id: int, limit: int) -> Sequence[str]: ...

    async def referrals_page(
        self, user_id: int, limit: int, after: tuple[datetime, int] | None
    ) -> Sequence[Referral]: ...


class OtpRepository(Protocol):
    async def guard(self, phone: str, *, for_update: bool = False) -> PhoneGuard:
        """The phone's brute-force state (created on first use), optionally row-locked."""
        ...

    async def save_guard(self, guard: PhoneGuard) -> None: ...

    async def newest(self, phone: str) -> OtpChallenge | None: ...

    async def create(
        self,
        *,
        phone: str,
        prefix: str,
        client: str,
        code_hash: str,
        now: datetime,
        expires_at: datetime,
    ) -> int: ...

    async def delete(self, challenge_id: int) -> None: ...

    async def count_attempt(self, challenge_id: int) -> None: ...

    async def consume(self, challenge_id: int, now: datetime) -> bool:
        """Mark the code used if it is not already; True if this call used it."""
        ...

    async def sent_times(self, phone: str, since: datetime) -> Sequence[datetime]:
        """Creation times of the phone's codes since ``since``, oldest first."""
        ...

    async def client_sent_times(self, client: str, since: datetime) -> Sequence[datetime]: ...

    async def prefix_phones(self, prefix: str, since: datetime) -> dict[str, datetime]:
        """Distinct phones under ``prefix`` since ``since``, with each one's first send."""
        ...

    async def count_since(self, since: datetime) -> int: ...

    async def conversion_by_prefix(self, since: datetime) -> Sequence[tuple[str, int, int]]:
        """(prefix, sent, used) for codes since ``since``."""
        ...


class RefreshTokenRepository(Protocol):
    async def add(
        self, *, jti: str, family_id: str, user_id: int, now: datetime, expires_at: datetime
    ) -> None: ...

    async def get(self, jti: str, *, for_update: bool = False) -> RefreshRecord | None: ...
    async def mark_used(self, jti: str, now: datetime) -> bool: ...
    async def revoke_family(self, family_id: str, now: datetime) -> None: ...


class ProgramRepository(Protocol):
    """Integrators' events, the history of referral statuses and the stored reward rules."""

    async def rule_set(self, digest: str, rules: str, now: datetime) -> int:
        """The id of the stored rule set with this digest, stored first if new."""
        ...

    async def add_event(
        self,
        *,
        external_id: str,
        type: str,
        user_id: int,
        amount: Decimal,
        occurred_at: datetime,
        received_at: datetime,
    ) -> int | None:
        """Record an event unless its ``external_id`` exists; its id, or None if it existed."""
        ...

    async def event(self, external_id: str) -> StoredEvent | None: ...

    async def set_event_status(self, event_id: int, status: ReferralStatus | None) -> None: ...

    async def record_status(
        self,
        *,
        referee_id: int,
        referrer_id: int | None,
        status: ReferralStatus,
        reason: str,
        actor: str | None,
        now: datetime,
    ) -> None:
        """Append one change to the referral's status history."""
        ...


class LedgerRepository(Protocol):
    """Ledger entries and each user's balance row."""

    async def lock_balances(self, user_ids: Sequence[int]) -> None:
        """Create the users' balance rows if needed and lock them, in ascending id order."""
        ...

    async def add(
        self,
        *,
        user_id: int,
        amount: Decimal,
        status: RewardStatus,
        reason: RewardReason,
        referral_user_id: int | None,
        event_id: int | None,
        rule_set_id: int | None,
        note: str | None,
        now: datetime,
        available_at: datetime | None,
    ) -> int: ...

    async def move_balance(self, user_id: int, *, available: Decimal, pending: Decimal) -> None:
        """Add to the user's balance sums (negative to take away)."""
        ...

    async def earned_since(
        self, user_id: int, since: datetime, reasons: Sequence[RewardReason]
    ) -> Decimal:
        """What the user was credited since ``since`` for these reasons (reversals left out)."""
        ...

    async def balance(self, user_id: int, now: datetime) -> Balance:
        """The balance as of ``now``: pending entries whose time has come count as available."""
        ...

    async def entries_of_event(self, event_id: int) -> Sequence[LedgerEntry]: ...

    async def page(
        self, user_id: int, limit: int, after: tuple[datetime, int] | None
    ) -> Sequence[LedgerEntry]:
        """The user's entries, newest first."""
        ...

    async def available_of_referral(self, referee_id: int) -> Sequence[LedgerEntry]:
        """The available entries about this referral."""
        ...

    async def pending_of_referral(self, referee_id: int) -> Sequence[LedgerEntry]:
        """The pending entries about this referral (to the referrer, the referee, level 2)."""
        ...

    async def settle(self, entry_id: int, status: RewardStatus, now: datetime) -> bool:
        """Move a pending entry to ``status``; False if it was no longer pending."""
        ...

    async def schedule(self, entry_id: int, available_at: datetime) -> None:
        """Give a held entry the moment it becomes available."""
        ...

    async def due(self, now: datetime, limit: int) -> Sequence[LedgerEntry]:
        """Pending entries whose time has come, locked, skipping those others hold."""
        ...


class ApiKeyRepository(Protocol):
    async def add(
        self, *, name: str, prefix: str, key_hash: str, scopes: str, now: datetime
    ) -> ApiKey: ...

    async def by_hash(self, key_hash: str) -> ApiKey | None: ...

    async def all(self) -> Sequence[ApiKey]: ...

    async def revoke(self, key_id: int, now: datetime) -> bool:
        """Revoke the key if it is live; False if unknown or already revoked."""
        ...


class OutboxRepository(Protocol):
    async def add(self, uid: str, type: str, payload: dict[str, Any], now: datetime) -> None:
        """Write one domain event in the current transaction."""
        ...

    async def undispatched(self, limit: int) -> Sequence[OutboxEvent]:
        """The oldest events not yet turned into deliveries, locked, skipping those others hold."""
        ...

    async def mark_dispatched(self, event_ids: Sequence[int], now: datetime) -> None: ...

    async def oldest_undelivered(self) -> datetime | None:
        """When the oldest event still waiting (to be dispatched or delivered) was written."""
        ...


class WebhookRepository(Protocol):
    """Endpoints, their deliveries (one per event) and each delivery's attempts."""

    async def add_endpoint(
        self,
        *,
        url: str,
        events: Sequence[str],
        description: str | None,
        secret: str,
        include_phones: bool,
        now: datetime,
    ) -> WebhookEndpoint: ...

    async def endpoint(self, endpoint_id: int) -> WebhookEndpoint | None: ...

    async def endpoints(self) -> Sequence[WebhookEndpoint]: ...

    async def update_endpoint(self, endpoint_id: int, **values: Any) -> None:
        """Set the given columns (url, events, description, include_phones, enabled, ...)."""
        ...

    async def delete_endpoint(self, endpoint_id: int) -> bool: ...

    async def add_deliveries(self, rows: Sequence[tuple[int, int]], now: datetime) -> None:
        """Queue (endpoint id, outbox event id) pairs; a pair queued before is left alone."""
        ...

    async def claim(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> Sequence[ClaimedDelivery]:
        """The oldest pending delivery of each enabled endpoint that is due and not held by
        another worker, leased until ``lease_until`` (one per endpoint: order is kept)."""
        ...

    async def record_attempt(
        self, delivery_id: int, now: datetime, result: DeliveryResult
    ) -> None: ...

    async def finish(self, delivery_id: int, status: str, now: datetime) -> None:
        """``delivered`` or ``failed``: the delivery leaves the queue."""
        ...

    async def retry_at(self, delivery_id: int, at: datetime) -> None: ...

    async def deliveries(
        self, endpoint_id: int, status: str | None, limit: int, after: int | None
    ) -> Sequence[WebhookDelivery]:
        """Newest first (by id), each with its attempts."""
        ...

    async def requeue(self, endpoint_id: int, event_uid: str, now: datetime) -> bool:
        """Queue an event for the endpoint again (also one it was never sent); False if the
        event does not exist."""
        ...

    async def failing_endpoints(self) -> Sequence[WebhookEndpoint]: ...


class TelegramQueueRepository(Protocol):
    async def enqueue(
        self,
        messages: Sequence[tuple[int, str, dict[str, Any]]],
        now: datetime,
        broadcast_id: int | None = None,
    ) -> int:
        """Queue (user id, kind, params) messages; for a broadcast, one per user at most."""
        ...

    async def due(self, now: datetime, limit: int) -> Sequence[QueuedMessage]:
        """Pending messages whose time has come, oldest first, for users who can receive them."""
        ...

    async def mark_sending(self, message_id: int, until: datetime) -> bool:
        """Take a pending message for sending; False if someone else took it."""
        ...

    async def mark_sent(self, message_id: int, now: datetime) -> None: ...

    async def mark_blocked(self, message_id: int, user_id: int, now: datetime) -> None:
        """The user blocked the bot: this message and the user are marked; no retries."""
        ...

    async def retry_at(self, message_id: int, at: datetime, error: str) -> None: ...

    async def delay_user(self, user_id: int, at: datetime) -> None:
        """Nothing more for this user's chat before ``at`` (Telegram asked us to wait)."""
        ...

    async def fail(self, message_id: int, now: datetime, error: str) -> None: ...

    async def recover_stale(self, now: datetime) -> tuple[int, int]:
        """Messages left "sending" by a worker that died: notifications go back to the queue
        (at least once), broadcast messages become "uncertain" (never twice).
        Returns (requeued, uncertain)."""
        ...


class GrowthRepository(Protocol):
    """Clicks and campaigns, the leaderboard counters, contests and the audit log."""

    async def add_click(
        self, telegram_id: int, invite_code: str | None, campaign_id: int | None, now: datetime
    ) -> None: ...

    async def last_click(self, telegram_id: int, since: datetime) -> Click | None: ...

    async def convert(self, click_id: int, telegram_id: int, user_id: int, now: datetime) -> bool:
        """Count a login for this click, once per person; True if counted now."""
        ...

    async def add_campaign(
        self, owner_id: int | None, name: str, slug: str, now: datetime
    ) -> Campaign | None:
        """A new campaign, or None if the owner already has this slug."""
        ...

    async def campaign_by_slug(self, owner_id: int | None, slug: str) -> Campaign | None: ...
    async def campaigns(self, owner_id: int | None) -> Sequence[Campaign]: ...
    async def all_campaigns(self) -> Sequence[Campaign]: ...

    async def funnel(
        self,
        since: datetime,
        until: datetime,
        *,
        invite_code: str | None = None,
        referrer_id: int | None = None,
        campaign_id: int | None = None,
    ) -> FunnelCounts: ...

    async def bump_score(
        self, referrer_id: int, periods: Sequence[tuple[str, date]], *, joined: int, qualified: int
    ) -> None:
        """Add to the referrer's counters of these (period, start) rows."""
        ...

    async def top(self, period: str, start: date, metric: str, limit: int) -> Sequence[Any]:
        """(referrer_id, count, first_name, last_name, phone), highest first."""
        ...

    async def score_and_rank(
        self, period: str, start: date, metric: str, referrer_id: int
    ) -> tuple[int, int] | None: ...

    async def add_contest(
        self,
        *,
        title: str,
        starts_at: datetime,
        ends_at: datetime,
        metric: str,
        prizes: Sequence[str],
        created_by: str,
        now: datetime,
    ) -> Contest: ...

    async def contest(self, contest_id: int) -> Contest | None: ...
    async def contests(self) -> Sequence[Contest]: ...
    async def running(self, now: datetime) -> Contest | None: ...
    async def due_contests(self, now: datetime) -> Sequence[Contest]: ...
    async def standings(self, contest: Contest, limit: int) -> Sequence[Any]: ...
    async def close_contest(
        self, contest_id: int, rows: Sequence[tuple[int, int, int, str | None]], now: datetime
    ) -> None: ...
    async def winners(self, contest_id: int) -> Sequence[Any]: ...

    async def add_audit(
        self,
        actor: str,
        action: str,
        subject: str,
        reason: str | None,
        details: dict[str, Any] | None,
        now: datetime,
    ) -> None: ...

    async def audit_page(self, limit: int, after: int | None) -> Sequence[AuditRecord]: ...


class InviteLinks(Protocol):
    async def url(self, payload: str) -> str | None:
        """``https://t.me/<bot>?start=<payload>``, or None while no bot is configured."""
        ...


class LeaseRepository(Protocol):
    async def acquire(self, name: str, holder: str, now: datetime, until: datetime) -> bool:
        """Hold the named job until ``until`` if it is free, expired or ours already."""
        ...


class UnitOfWork(Protocol):
    """One transaction: committed when the block ends normally, rolled back on an exception."""

    @property
    def users(self) -> UserRepository: ...
    @property
    def otps(self) -> OtpRepository: ...
    @property
    def refresh_tokens(self) -> RefreshTokenRepository: ...
    @property
    def program(self) -> ProgramRepository: ...
    @property
    def ledger(self) -> LedgerRepository: ...
    @property
    def api_keys(self) -> ApiKeyRepository: ...
    @property
    def outbox(self) -> OutboxRepository: ...
    @property
    def webhooks(self) -> WebhookRepository: ...
    @property
    def telegram(self) -> TelegramQueueRepository: ...
    @property
    def leases(self) -> LeaseRepository: ...
    @property
    def growth(self) -> GrowthRepository: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, *, read_only: bool = False) -> UnitOfWork:
        """A transaction; ``read_only`` runs each read on its own, without one (cheaper)."""
        ...


class HealthProbe(Protocol):
    async def ping(self) -> None:
        """Raise if the database does not answer."""
        ...
