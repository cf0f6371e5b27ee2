"""Row → domain entity converters: repositories never hand out SQLAlchemy rows."""

from __future__ import annotations

from typing import Any

from core.domain.entities import OtpChallenge, PhoneGuard, Referral, Referrer, RefreshRecord, User


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
