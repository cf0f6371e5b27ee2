"""Row → domain entity converters: repositories never hand out SQLAlchemy rows."""

from __future__ import annotations

import json
from typing import Any

from core.domain.entities import (
    ApiKey,
    LedgerEntry,
    OtpChallenge,
    OutboxEvent,
    PhoneGuard,
    Referral,
    Referrer,
    RefreshRecord,
    StoredEvent,
    User,
    WebhookAttempt,
    WebhookEndpoint,
)
from core.domain.rewards import ReferralStatus, RewardReason, RewardStatus


def to_user(row: Any) -> User:
    return User(
        id=row.id,
        phone=row.phone,
        invite_code=row.invite_code,
        first_name=row.first_name,
        last_name=row.last_name,
        referrer_id=row.referrer_id,
        referred_at=row.referred_at,
        telegram_id=row.telegram_id,
        language=row.language,
        referral_count=row.referral_count,
        created_at=row.created_at,
        referral_status=ReferralStatus(row.referral_status) if row.referral_status else None,
        qualified_at=row.qualified_at,
        qualified_count=row.qualified_count,
        flagged_count=row.flagged_count,
        rejected_count=row.rejected_count,
        referral_signals=tuple(row.referral_signals.split(",")) if row.referral_signals else (),
        campaign_id=row.campaign_id,
        is_admin=bool(row.is_admin),
    )


def to_referrer(row: Any) -> Referrer | None:
    """The referrer joined to a user row as ``r_*`` columns, if there is one."""
    if row.r_id is None:
        return None
    return Referrer(
        id=row.r_id,
        phone=row.r_phone,
        invite_code=row.r_invite_code,
        first_name=row.r_first_name,
        last_name=row.r_last_name,
    )


def to_referral(row: Any) -> Referral:
    return Referral(
        id=row.id,
        phone=row.phone,
        first_name=row.first_name,
        last_name=row.last_name,
        joined_at=row.referred_at,
        status=ReferralStatus(row.referral_status or ReferralStatus.JOINED),
        qualified_at=row.qualified_at,
    )


def to_challenge(row: Any) -> OtpChallenge:
    return OtpChallenge(
        id=row.id,
        phone=row.phone,
        code_hash=row.code_hash,
        created_at=row.created_at,
        expires_at=row.expires_at,
        attempts=row.attempts,
        used_at=row.used_at,
    )


def to_guard(row: Any) -> PhoneGuard:
    return PhoneGuard(
        phone=row.phone, failures=row.failures, locks=row.locks, locked_until=row.locked_until
    )


def to_refresh(row: Any) -> RefreshRecord:
    return RefreshRecord(
        jti=row.jti,
        family_id=row.family_id,
        user_id=row.user_id,
        expires_at=row.expires_at,
        used_at=row.used_at,
        revoked_at=row.revoked_at,
    )


def to_event(row: Any) -> StoredEvent:
    return StoredEvent(
        id=row.id,
        external_id=row.external_id,
        type=row.type,
        user_id=row.user_id,
        amount=row.amount,
        occurred_at=row.occurred_at,
        referral_status=ReferralStatus(row.referral_status) if row.referral_status else None,
    )


def to_entry(row: Any) -> LedgerEntry:
    """A ledger row joined with its event's ``external_id`` (as ``event_external_id``)."""
    return LedgerEntry(
        id=row.id,
        user_id=row.user_id,
        amount=row.amount,
        status=RewardStatus(row.status),
        reason=RewardReason(row.reason),
        referral_user_id=row.referral_user_id,
        event_id=row.event_external_id,
        created_at=row.created_at,
        available_at=row.available_at,
        note=row.note,
    )


def to_api_key(row: Any) -> ApiKey:
    return ApiKey(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        scopes=frozenset(s for s in row.scopes.split(",") if s),
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def to_outbox_event(row: Any) -> OutboxEvent:
    return OutboxEvent(
        id=row.id,
        uid=row.uid,
        type=row.type,
        payload=json.loads(row.payload),
        created_at=row.created_at,
    )


def to_endpoint(row: Any) -> WebhookEndpoint:
    return WebhookEndpoint(
        id=row.id,
        url=row.url,
        events=tuple(json.loads(row.events)),
        description=row.description,
        include_phones=bool(row.include_phones),
        enabled=bool(row.enabled),
        created_at=row.created_at,
        failing_since=row.failing_since,
        disabled_at=row.disabled_at,
        disabled_reason=row.disabled_reason,
    )


def to_attempt(row: Any) -> WebhookAttempt:
    return WebhookAttempt(
        attempted_at=row.attempted_at,
        status_code=row.status_code,
        duration_ms=row.duration_ms,
        response=row.response,
        error=row.error,
    )
