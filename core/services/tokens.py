"""JWT access and refresh tokens (PyJWT, HS256) with single-use, chain-revoking refresh."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any, Literal

import jwt

from core.domain.entities import TokenPair
from core.domain.errors import TokenInvalid, TokenReused
from core.domain.policy import TokenPolicy
from core.ports import Clock, UnitOfWorkFactory

log = logging.getLogger(__name__)

ALGORITHM = "HS256"
_REQUIRED = ["sub", "iat", "exp", "jti", "typ", "iss", "aud"]
TokenType = Literal["access", "refresh"]


class TokenService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, policy: TokenPolicy) -> None:
        self._uow = uow
        self._clock = clock
        self._policy = policy

    async def issue(self, user_id: int) -> TokenPair:
        """A new login: a fresh refresh-token chain."""
        return await self._issue(user_id, family_id=str(uuid.uuid4()))

    async def _issue(self, user_id: int, family_id: str) -> TokenPair:
        now = self._clock.now()
        jti = str(uuid.uuid4())
        refresh_exp = now + timedelta(seconds=self._policy.refresh_ttl_seconds)
        async with self._uow() as tx:
            await tx.refresh_tokens.add(
                jti=jti, family_id=family_id, user_id=user_id, now=now, expires_at=refresh_exp
            )
        return TokenPair(
            access_token=self._encode(user_id, "access", self._policy.access_ttl_seconds),
            refresh_token=self._encode(
                user_id, "refresh", self._policy.refresh_ttl_seconds, jti=jti
            ),
            expires_in=self._policy.access_ttl_seconds,
        )

    def authenticate(self, access_token: str) -> int:
        """The user id an access token speaks for; a refresh token is refused here."""
        return int(self._decode(access_token, "access")["sub"])

    async def refresh(self, refresh_token: str) -> TokenPair:
        """Trade a refresh token for a new pair, once.

        Presenting a token that was already used revokes its whole chain (a stolen token and
        the legitimate one cannot both live on), unless it comes back within the configured
        grace period, which only serves a client retrying a lost response.
        """
        claims = self._decode(refresh_token, "refresh")
        now = self._clock.now()
        reused = False
        async with self._uow() as tx:
            record = await tx.refresh_tokens.get(claims["jti"], for_update=True)
            if record is None or record.revoked_at is not None or record.expires_at <= now:
                raise TokenInvalid()
            if record.used_at is not None:
                grace = timedelta(seconds=self._policy.refresh_reuse_grace_seconds)
                if not grace or now - record.used_at > grace:
                    await tx.refresh_tokens.revoke_family(record.family_id, now)
                    reused = True
            elif not await tx.refresh_tokens.mark_used(record.jti, now):
                raise TokenInvalid()
        if reused:
            log.warning("refresh token reused for user %d: chain revoked", record.user_id)
            raise TokenReused()
        return await self._issue(record.user_id, record.family_id)

    async def logout(self, refresh_token: str) -> None:
        """Revoke the chain the refresh token belongs to."""
        claims = self._decode(refresh_token, "refresh")
        now = self._clock.now()
        async with self._uow() as tx:
            record = await tx.refresh_tokens.get(claims["jti"])
            if record is None:
                raise TokenInvalid()
            await tx.refresh_tokens.revoke_family(record.family_id, now)

    def _encode(self, user_id: int, typ: TokenType, ttl: int, jti: str | None = None) -> str:
        now = self._clock.now()
        payload = {
            "sub": str(user_id),
            "iat": int(now.timestamp()),
            "exp": int((now + timedelta(seconds=ttl)).timestamp()),
            "jti": jti or str(uuid.uuid4()),
            "typ": typ,
            "iss": self._policy.issuer,
            "aud": self._policy.audience,
        }
        return jwt.encode(payload, self._policy.secret, algorithm=ALGORITHM)

    def _decode(self, token: str, typ: TokenType) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._policy.secret,
                algorithms=[ALGORITHM],
                audience=self._policy.audience,
                issuer=self._policy.issuer,
                # Expiry is checked below against the injected clock, not the system time.
                options={"require": _REQUIRED, "verify_exp": False, "verify_iat": False},
                leeway=0,
            )
        except jwt.PyJWTError:
            raise TokenInvalid() from None
        if claims.get("typ") != typ or not str(claims.get("sub", "")).isdigit():
            raise TokenInvalid()
        if int(claims["exp"]) <= int(self._clock.now().timestamp()):
            raise TokenInvalid()
        return claims
