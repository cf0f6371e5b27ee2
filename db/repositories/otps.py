"""One-time codes and the per-phone brute-force guard."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain.entities import OtpChallenge, PhoneGuard
from db.mapping import to_challenge, to_guard
from db.models import OtpChallengeRow, PhoneGuardRow

challenges = cast(Table, OtpChallengeRow.__table__)
guards = cast(Table, PhoneGuardRow.__table__)

# Statements built once (see db/repositories/users.py).
_NEWEST = (
    select(challenges)
    .where(challenges.c.phone == bindparam("phone"))
    .order_by(challenges.c.id.desc())
    .limit(1)
)
_SENT_TIMES = (
    select(challenges.c.created_at)
    .where(challenges.c.phone == bindparam("phone"), challenges.c.created_at >= bindparam("since"))
    .order_by(challenges.c.created_at)
)
_CLIENT_TIMES = (
    select(challenges.c.created_at)
    .where(
        challenges.c.client == bindparam("client"), challenges.c.created_at >= bindparam("since")
    )
    .order_by(challenges.c.created_at)
)
_PREFIX_PHONES = (
    select(challenges.c.phone, func.min(challenges.c.created_at).label("first"))
    .where(
        challenges.c.prefix == bindparam("prefix"), challenges.c.created_at >= bindparam("since")
    )
    .group_by(challenges.c.phone)
)
_COUNT_SINCE = (
    select(func.count())
    .select_from(challenges)
    .where(challenges.c.created_at >= bindparam("since"))
)
_GUARD = select(guards).where(guards.c.phone == bindparam("phone"))


def _locking_guard_upsert(dialect: str) -> Any:
    """Create the phone's guard row if needed and return it, locked (one statement)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    new = insert(guards).values(phone=bindparam("phone"), failures=0, locks=0)
    return new.on_conflict_do_update(
        index_elements=["phone"], set_={"phone": new.excluded.phone}
    ).returning(*guards.c)


_GUARD_UPSERT = {name: _locking_guard_upsert(name) for name in ("postgresql", "sqlite")}


class SqlOtpRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._dialect = conn.dialect.name

    async def guard(self, phone: str, *, for_update: bool = False) -> PhoneGuard:
        if for_update:
            # The no-op ON CONFLICT DO UPDATE takes the row lock on PostgreSQL (SQLite's
            # BEGIN IMMEDIATE already serialises writers).
            upsert = _GUARD_UPSERT[self._dialect]
            return to_guard((await self._conn.execute(upsert, {"phone": phone})).one())
        row = (await self._conn.execute(_GUARD, {"phone": phone})).first()
        return to_guard(row) if row is not None else PhoneGuard(phone, 0, 0, None)

    async def save_guard(self, guard: PhoneGuard) -> None:
        await self._conn.execute(
            update(guards)
            .where(guards.c.phone == guard.phone)
            .values(failures=guard.failures, locks=guard.locks, locked_until=guard.locked_until)
        )

    async def newest(self, phone: str) -> OtpChallenge | None:
        row = (await self._conn.execute(_NEWEST, {"phone": phone})).first()
        return to_challenge(row) if row is not None else None

    async def create(
        self,
        *,
        phone: str,
        prefix: str,
        client: str,
        code_hash: str,
        now: datetime,
        expires_at: datetime,
    ) -> int:
        result = await self._conn.execute(
            challenges.insert()
            .values(
                phone=phone,
                prefix=prefix,
                client=client[:128],
                code_hash=code_hash,
                created_at=now,
                expires_at=expires_at,
                attempts=0,
            )
            .returning(challenges.c.id)
        )
        return int(result.scalar_one())

    async def delete(self, challenge_id: int) -> None:
        await self._conn.execute(delete(challenges).where(challenges.c.id == challenge_id))

    async def count_attempt(self, challenge_id: int) -> None:
        await self._conn.execute(
            update(challenges)
            .where(challenges.c.id == challenge_id)
            .values(attempts=challenges.c.attempts + 1)
        )

    async def consume(self, challenge_id: int, now: datetime) -> bool:
        result = await self._conn.execute(
            update(challenges)
            .where(challenges.c.id == challenge_id, challenges.c.used_at.is_(None))
            .values(used_at=now)
        )
        return bool(result.rowcount)

    async def sent_times(self, phone: str, since: datetime) -> Sequence[datetime]:
        result = await self._conn.execute(_SENT_TIMES, {"phone": phone, "since": since})
        return list(result.scalars())

    async def client_sent_times(self, client: str, since: datetime) -> Sequence[datetime]:
        params = {"client": client[:128], "since": since}
        return list((await self._conn.execute(_CLIENT_TIMES, params)).scalars())

    async def prefix_phones(self, prefix: str, since: datetime) -> dict[str, datetime]:
        params = {"prefix": prefix, "since": since}
        return {row.phone: row.first for row in await self._conn.execute(_PREFIX_PHONES, params)}

    async def count_since(self, since: datetime) -> int:
        return int((await self._conn.execute(_COUNT_SINCE, {"since": since})).scalar_one())

    async def conversion_by_prefix(self, since: datetime) -> Sequence[tuple[str, int, int]]:
        stmt = (
            select(
                challenges.c.prefix,
                func.count(),
                func.count(challenges.c.used_at),
            )
            .where(challenges.c.created_at >= since)
            .group_by(challenges.c.prefix)
        )
        return [(p, int(sent), int(used)) for p, sent, used in await self._conn.execute(stmt)]
