"""Integrators' API keys (their keyed hashes)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain.entities import ApiKey
from db.mapping import to_api_key
from db.models import ApiKeyRow

api_keys = cast(Table, ApiKeyRow.__table__)
_BY_HASH = select(api_keys).where(api_keys.c.key_hash == bindparam("key_hash"))


class SqlApiKeyRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(
        self, *, name: str, prefix: str, key_hash: str, scopes: str, now: datetime
    ) -> ApiKey:
        result = await self._conn.execute(
            api_keys.insert()
            .values(name=name, prefix=prefix, key_hash=key_hash, scopes=scopes, created_at=now)
            .returning(*api_keys.c)
        )
        return to_api_key(result.one())

    async def by_hash(self, key_hash: str) -> ApiKey | None:
        row = (await self._conn.execute(_BY_HASH, {"key_hash": key_hash})).first()
        return to_api_key(row) if row is not None else None

    async def all(self) -> Sequence[ApiKey]:
        return [to_api_key(r) for r in await self._conn.execute(select(api_keys).order_by("id"))]

    async def revoke(self, key_id: int, now: datetime) -> bool:
        result = await self._conn.execute(
            update(api_keys)
            .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return bool(result.rowcount)
