"""Tables. Portable column types only: one migration history serves SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, BigId, Money


class UserRow(Base):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    phone: Mapped[str] = mapped_column(String(16), unique=True)
    first_name: Mapped[str | None] = mapped_column(String(64))
    last_name: Mapped[str | None] = mapped_column(String(64))
    invite_code: Mapped[str] = mapped_column(String(6), unique=True)
    referrer_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("user.id", ondelete="RESTRICT")
    )
    referred_at: Mapped[datetime | None]
    #: Kept in the same transaction as each activation: the profile never counts a million rows.
    referral_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    #: This user's own referral (as a referee): joined, qualified, flagged or rejected.
    referral_status: Mapped[str | None] = mapped_column(String(16))
    qualified_at: Mapped[datetime | None]
    #: How many of this user's referrals stand qualified, flagged or rejected (the rest joined),
    #: kept with each change of status like ``referral_count``.
    qualified_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    flagged_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    rejected_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    #: The fraud signals this user's referral tripped (comma-separated), if any.
    referral_signals: Mapped[str | None] = mapped_column(String(200))
    #: The campaign this user came through (a click on its link before the first login).
    campaign_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("campaign.id", ondelete="SET NULL", use_alter=True)
    )
    #: Granted with `referral admin grant` (or listed in ADMIN_PHONES): may use the console.
    is_admin: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    #: The client (``ip:...`` or ``tg:...``) of the first login and of the latest one.
    signup_client: Mapped[str | None] = mapped_column(String(128))
    last_client: Mapped[str | None] = mapped_column(String(128))
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    #: When Telegram said this user blocked the bot (nothing is sent to them after that).
    telegram_blocked_at: Mapped[datetime | None]
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime]

    __table_args__ = (
        # Keyset pages and "the 100 newest" of one referrer, newest first, in index order.
        Index("ix_user_referrer_id_referred_at_id", "referrer_id", "referred_at", "id"),
        # A referrer's referees under one number prefix (a fraud signal): a range of this index.
        Index("ix_user_referrer_id_phone", "referrer_id", "phone"),
        Index("ix_user_referrer_id_qualified_at", "referrer_id", "qualified_at"),
        # Contest standings: the referrals of a time window.
        Index("ix_user_referred_at", "referred_at"),
        Index("ix_user_qualified_at", "qualified_at"),
    )


class OtpChallengeRow(Base):
    """One code sent to one phone. Only the newest of a phone is ever live."""

    __tablename__ = "otp_challenge"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    phone: Mapped[str] = mapped_column(String(16))
    prefix: Mapped[str] = mapped_column(String(16))
    client: Mapped[str] = mapped_column(String(128))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    used_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_otp_challenge_phone_id", "phone", "id"),
        Index("ix_otp_challenge_client_created_at", "client", "created_at"),
        Index("ix_otp_challenge_prefix_created_at", "prefix", "created_at"),
        Index("ix_otp_challenge_created_at", "created_at"),
    )


class PhoneGuardRow(Base):
    """Brute-force state per phone; its row lock also serialises requests for one phone."""

    __tablename__ = "phone_guard"

    phone: Mapped[str] = mapped_column(String(16), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    locks: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    locked_until: Mapped[datetime | None]


class RefreshTokenRow(Base):
    """Issued refresh tokens, for single use and chain revocation."""

    __tablename__ = "refresh_token"

    jti: Mapped[str] = mapped_column(String(36), primary_key=True)
    family_id: Mapped[str] = mapped_column(String(36), index=True)
    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class ReferralStatusChangeRow(Base):
    """The append-only history of every referral's status, with the reason of each change."""

    __tablename__ = "referral_status_change"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    referee_id: Mapped[int] = mapped_column(BigId, ForeignKey("user.id", ondelete="CASCADE"))
    referrer_id: Mapped[int | None] = mapped_column(BigId)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(300))
    actor: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]

    __table_args__ = (Index("ix_referral_status_change_referee_id_id", "referee_id", "id"),)


class RuleSetRow(Base):
    """The reward rules in force when something was credited, stored once per distinct set."""

    __tablename__ = "rule_set"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    rules: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class ProgramEventRow(Base):
    """An integrator's event (a purchase, ...): recorded once per ``external_id``."""

    __tablename__ = "program_event"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    external_id: Mapped[str] = mapped_column(String(128), unique=True)
    type: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("user.id", ondelete="CASCADE"))
    amount: Mapped[Decimal] = mapped_column(Money)
    occurred_at: Mapped[datetime]
    received_at: Mapped[datetime]
    #: The referee's referral status once the event was processed (null: no referral).
    referral_status: Mapped[str | None] = mapped_column(String(16))

    __table_args__ = (Index("ix_program_event_user_id_id", "user_id", "id"),)


class LedgerEntryRow(Base):
    """Append-only: an entry is never deleted and its amount never changes. Its status moves
    once, from pending to available or to reversed; money already available is taken back only
    by a new negative entry."""

    __tablename__ = "ledger_entry"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("user.id", ondelete="CASCADE"))
    amount: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(32))
    referral_user_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("user.id", ondelete="SET NULL")
    )
    event_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("program_event.id", ondelete="SET NULL")
    )
    rule_set_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("rule_set.id"))
    note: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime]
    #: When a pending entry becomes available; null while its referral awaits review.
    available_at: Mapped[datetime | None]
    #: When the status last moved (to available or reversed).
    settled_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_ledger_entry_user_id_created_at_id", "user_id", "created_at", "id"),
        Index("ix_ledger_entry_status_available_at", "status", "available_at"),
        Index("ix_ledger_entry_referral_user_id", "referral_user_id"),
        Index("ix_ledger_entry_event_id", "event_id"),
    )


class RewardBalanceRow(Base):
    """Each user's sums of the ledger, kept in the transaction of every entry that moves them;
    its row lock also serialises the credits of one user (the daily cap's count)."""

    __tablename__ = "reward_balance"

    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    available: Mapped[Decimal] = mapped_column(Money, server_default=text("0"))
    pending: Mapped[Decimal] = mapped_column(Money, server_default=text("0"))


class ApiKeyRow(Base):
    """An integrator's key: only its keyed hash is stored, and a short prefix to tell keys apart."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class OutboxEventRow(Base):
    """A domain change, written in the transaction of the change (the transactional outbox)."""

    __tablename__ = "outbox_event"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    uid: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(index=True)
    #: When the worker turned it into deliveries and messages (null: not yet).
    dispatched_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_outbox_event_dispatched_at_id", "dispatched_at", "id"),)


class WebhookEndpointRow(Base):
    """An integrator's endpoint and the events it subscribes to."""

    __tablename__ = "webhook_endpoint"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    url: Mapped[str] = mapped_column(String(2000))
    #: JSON list of event types, or ["*"].
    events: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(String(200))
    #: ``whsec_...``: needed in clear to sign; shown in full only when made or rotated.
    secret: Mapped[str] = mapped_column(String(100))
    include_phones: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    enabled: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[datetime]
    #: Since when every attempt has failed (null: the last one succeeded).
    failing_since: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(String(300))


class WebhookDeliveryRow(Base):
    """One event for one endpoint: delivered at least once, retried until it is or ages out."""

    __tablename__ = "webhook_delivery"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    endpoint_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("webhook_endpoint.id", ondelete="CASCADE")
    )
    event_id: Mapped[int] = mapped_column(BigId, ForeignKey("outbox_event.id", ondelete="CASCADE"))
    #: pending | delivered | failed
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    #: When it was (re)queued: the retries stop WEBHOOK_MAX_AGE_SECONDS after this.
    queued_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    #: A worker holds the delivery until then (a lease: a killed worker's expires).
    locked_until: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id"),
        Index(
            "ix_webhook_delivery_endpoint_id_status_event_id", "endpoint_id", "status", "event_id"
        ),
        Index("ix_webhook_delivery_status_next_attempt_at", "status", "next_attempt_at"),
    )


class WebhookAttemptRow(Base):
    """Each attempt of a delivery: its time, the answer's status, duration and first 1 KB."""

    __tablename__ = "webhook_attempt"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("webhook_delivery.id", ondelete="CASCADE"), index=True
    )
    attempted_at: Mapped[datetime]
    status_code: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int] = mapped_column(Integer)
    response: Mapped[str | None] = mapped_column(String(1024))
    error: Mapped[str | None] = mapped_column(String(300))


class TelegramMessageRow(Base):
    """A message for one user's Telegram chat (a notification or a broadcast), sent by the
    worker within Telegram's limits; the text is rendered at sending, in the user's language."""

    __tablename__ = "telegram_message"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    #: JSON: what the text is made of (names, amounts, the broadcast's text).
    params: Mapped[str] = mapped_column(Text)
    broadcast_id: Mapped[int | None] = mapped_column(BigId)
    #: pending | sending | sent | blocked | failed | uncertain
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(String(300))

    __table_args__ = (
        UniqueConstraint("broadcast_id", "user_id"),
        Index("ix_telegram_message_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_telegram_message_user_id", "user_id"),
    )


class WorkerLeaseRow(Base):
    """A job only one worker runs at a time (the Telegram sender: Telegram's limits are global)."""

    __tablename__ = "worker_lease"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]


class CampaignRow(Base):
    """A named source of referrals: a referrer's own (a channel, a partner) or the operator's."""

    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    owner_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("user.id", ondelete="CASCADE"))
    #: ``owner_id``, or 0 for the operator's: one slug per owner (NULLs are never equal).
    owner_key: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(64))
    slug: Mapped[str] = mapped_column(String(24))
    created_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("owner_key", "slug"),)


class InviteClickRow(Base):
    """Someone opened a deep link before logging in: the attribution of their first login."""

    __tablename__ = "invite_click"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger)
    invite_code: Mapped[str | None] = mapped_column(String(6))
    campaign_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("campaign.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]
    #: The user whose login this click led to (counted once per person).
    converted_user_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("user.id", ondelete="SET NULL")
    )
    converted_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_invite_click_telegram_id_id", "telegram_id", "id"),
        Index("ix_invite_click_invite_code_created_at", "invite_code", "created_at"),
        Index("ix_invite_click_campaign_id_created_at", "campaign_id", "created_at"),
    )


class ReferrerScoreRow(Base):
    """Each referrer's referrals per week, per month and in all, kept with every change: a
    leaderboard reads an index of these rows, never the referrals."""

    __tablename__ = "referrer_score"

    period: Mapped[str] = mapped_column(String(8), primary_key=True)
    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    referrer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    joined: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    qualified: Mapped[int] = mapped_column(Integer, server_default=text("0"))

    __table_args__ = (
        Index("ix_referrer_score_period_period_start_joined", "period", "period_start", "joined"),
        Index(
            "ix_referrer_score_period_period_start_qualified", "period", "period_start", "qualified"
        ),
    )


class ContestRow(Base):
    __tablename__ = "contest"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime] = mapped_column(index=True)
    #: joined | qualified
    metric: Mapped[str] = mapped_column(String(16))
    #: JSON list of the prizes, first place first.
    prizes: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))
    closed_at: Mapped[datetime | None]


class ContestWinnerRow(Base):
    """A closed contest's standings at its end: fixed, whatever happens to the referrals later."""

    __tablename__ = "contest_winner"

    contest_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("contest.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    rank: Mapped[int] = mapped_column(Integer)
    score: Mapped[int] = mapped_column(Integer)
    prize: Mapped[str | None] = mapped_column(String(200))


class AuditLogRow(Base):
    """Every operator action: who, what, on what, when and why."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(String(300))
    details: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(index=True)
