"""Tables. Portable column types only: one migration history serves SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, BigId


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
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime]

    __table_args__ = (
        # Keyset pages and "the 100 newest" of one referrer, newest first, in index order.
        Index("ix_user_referrer_id_referred_at_id", "referrer_id", "referred_at", "id"),
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
