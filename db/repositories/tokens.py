"""Refresh tokens: single use, revocable by chain."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain.entities import RefreshRecord
from db.mapping import to_refresh
from db.models import RefreshTokenRow

tokens = cast(Table, RefreshTokenRow.__table__)


class SqlRefreshTokenRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._dialect = conn.dialect.name

    async def add(
        self, *, jti: str, family_id: str, user_id: int, now: datetime, expires_at: datetime
    ) -> None:
        await self._conn.execute(
            tokens.insert().values(
                jti=jti, family_id=family_id, user_id=user_id, issued_at=now, expires_at=expires_at
            )
        )

    async def get(self, jti: str, *, for_update: bool = False) -> RefreshRecord | None:
        stmt = select(tokens).where(tokens.c.jti == jti)
        if for_update and self._dialect == "postgresql":
            stmt = stmt.with_for_update()
        row = (await self._conn.execute(stmt)).first()
        return to_refresh(row) if row is not None else None

    async def mark_used(self, jti: str, now: datetime) -> bool:
        result = await self._conn.execute(
            update(tokens)
            .where(tokens.c.jti == jti, tokens.c.used_at.is_(None))
            .values(used_at=now)
        )
        return bool(result.rowcount)

    async def revoke_family(self, family_id: str, now: datetime) -> None:
        await self._conn.execute(
            update(tokens)
            .where(tokens.c.family_id == family_id, tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
