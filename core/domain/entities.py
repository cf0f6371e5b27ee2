"""Frozen dataclasses the core hands out. No ORM, no pydantic."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.domain.errors import DomainError


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
class Profile:
    user: User
    referrer: Referrer | None
    referral_phones: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Referral:
    id: int
    phone: str
    first_name: str | None
    last_name: str | None
    joined_at: datetime


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
