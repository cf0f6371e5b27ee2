"""The Telegram queue (notifications and broadcasts) and the leases of one-worker jobs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain.entities import QueuedMessage
from db.models import TelegramMessageRow, UserRow, WorkerLeaseRow

messages = cast(Table, TelegramMessageRow.__table__)
users = cast(Table, UserRow.__table__)
leases = cast(Table, WorkerLeaseRow.__table__)


def _insert(dialect: str) -> Any:
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


class SqlTelegramQueueRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._dialect = conn.dialect.name

    async def enqueue(
        self,
        messages_: Sequence[tuple[int, str, dict[str, Any]]],
        now: datetime,
        broadcast_id: int | None = None,
    ) -> int:
        if not messages_:
            return 0
        values = [
            {
                "user_id": user_id,
                "kind": kind,
                "params": json.dumps(params, ensure_ascii=False),
                "broadcast_id": broadcast_id,
                "status": "pending",
                "attempts": 0,
                "created_at": now,
                "next_attempt_at": now,
            }
            for user_id, kind, params in messages_
        ]
        stmt = _insert(self._dialect)(messages).on_conflict_do_nothing()
        result = await self._conn.execute(stmt, values)
        return int(result.rowcount or 0)

    async def due(self, now: datetime, limit: int) -> Sequence[QueuedMessage]:
        stmt = (
            select(
                messages.c.id,
                messages.c.user_id,
                messages.c.kind,
                messages.c.params,
                messages.c.attempts,
                messages.c.broadcast_id,
                users.c.telegram_id,
                users.c.language,
                users.c.telegram_blocked_at,
            )
            .select_from(messages.join(users, users.c.id == messages.c.user_id))
            .where(messages.c.status == "pending", messages.c.next_attempt_at <= now)
            .order_by(messages.c.next_attempt_at, messages.c.id)
            .limit(limit)
        )
        out = []
        unreachable = []
        for row in await self._conn.execute(stmt):
            if row.telegram_id is None or row.telegram_blocked_at is not None:
                unreachable.append(row.id)
                continue
            out.append(
                QueuedMessage(
                    id=row.id,
                    user_id=row.user_id,
                    telegram_id=row.telegram_id,
                    language=row.language,
                    kind=row.kind,
                    params=json.loads(row.params),
                    attempts=row.attempts,
                    broadcast_id=row.broadcast_id,
                )
            )
        if unreachable:
            # Logged out of Telegram, or blocked the bot: nothing to send them.
            await self._conn.execute(
                update(messages)
                .where(messages.c.id.in_(unreachable))
                .values(status="blocked", error="no Telegram chat for this user")
            )
        return out

    async def mark_sending(self, message_id: int, until: datetime) -> bool:
        result = await self._conn.execute(
            update(messages)
            .where(messages.c.id == message_id, messages.c.status == "pending")
            .values(status="sending", locked_until=until, attempts=messages.c.attempts + 1)
        )
        return bool(result.rowcount)

    async def mark_sent(self, message_id: int, now: datetime) -> None:
        await self._conn.execute(
            update(messages)
            .where(messages.c.id == message_id)
            .values(status="sent", sent_at=now, locked_until=None, error=None)
        )

    async def mark_blocked(self, message_id: int, user_id: int, now: datetime) -> None:
        await self._conn.execute(
            update(messages)
            .where(messages.c.id == message_id)
            .values(status="blocked", locked_until=None, error="the user blocked the bot")
        )
        await self._conn.execute(
            update(users).where(users.c.id == user_id).values(telegram_blocked_at=now)
        )

    async def retry_at(self, message_id: int, at: datetime, error: str) -> None:
        await self._conn.execute(
            update(messages)
            .where(messages.c.id == message_id)
            .values(status="pending", next_attempt_at=at, locked_until=None, error=error[:300])
        )

    async def delay_user(self, user_id: int, at: datetime) -> None:
        await self._conn.execute(
            update(messages)
            .where(
                messages.c.user_id == user_id,
                messages.c.status == "pending",
                messages.c.next_attempt_at < at,
            )
            .values(next_attempt_at=at)
        )

    async def fail(self, message_id: int, now: datetime, error: str) -> None:
        await self._conn.execute(
            update(messages)
            .where(messages.c.id == message_id)
            .values(status="failed", locked_until=None, error=error[:300])
        )

    async def recover_stale(self, now: datetime) -> tuple[int, int]:
        stale = and_(messages.c.status == "sending", messages.c.locked_until <= now)
        requeued = await self._conn.execute(
            update(messages)
            .where(stale, messages.c.broadcast_id.is_(None))
            .values(status="pending", next_attempt_at=now, locked_until=None)
        )
        uncertain = await self._conn.execute(
            update(messages)
            .where(stale, messages.c.broadcast_id.is_not(None))
            .values(
                status="uncertain",
                locked_until=None,
                error="the worker stopped while sending: not sent again, to never send twice",
            )
        )
        return int(requeued.rowcount or 0), int(uncertain.rowcount or 0)

    async def count_by_status(self, broadcast_id: int) -> dict[str, int]:
        stmt = (
            select(messages.c.status, func.count())
            .where(messages.c.broadcast_id == broadcast_id)
            .group_by(messages.c.status)
        )
        return {status: int(n) for status, n in await self._conn.execute(stmt)}


class SqlLeaseRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._dialect = conn.dialect.name

    async def acquire(self, name: str, holder: str, now: datetime, until: datetime) -> bool:
        new = _insert(self._dialect)(leases).values(name=name, holder=holder, expires_at=until)
        stmt = new.on_conflict_do_update(
            index_elements=["name"],
            set_={"holder": holder, "expires_at": until},
            where=or_(leases.c.holder == holder, leases.c.expires_at <= now),
        ).returning(leases.c.holder)
        return (await self._conn.execute(stmt)).scalar() == holder
