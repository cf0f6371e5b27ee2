"""Integrators' events, the referral status history, the stored reward rules, the outbox."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain.entities import OutboxEvent, StoredEvent
from core.domain.rewards import ReferralStatus
from db.mapping import to_event, to_outbox_event
from db.models import (
    OutboxEventRow,
    ProgramEventRow,
    ReferralStatusChangeRow,
    RuleSetRow,
    WebhookDeliveryRow,
)

program_events = cast(Table, ProgramEventRow.__table__)
status_changes = cast(Table, ReferralStatusChangeRow.__table__)
rule_sets = cast(Table, RuleSetRow.__table__)
outbox = cast(Table, OutboxEventRow.__table__)
deliveries = cast(Table, WebhookDeliveryRow.__table__)

_RULE_SET = select(rule_sets.c.id).where(rule_sets.c.digest == bindparam("digest"))
_EVENT = select(program_events).where(program_events.c.external_id == bindparam("external_id"))


def _insert(dialect: str) -> Any:
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


class SqlProgramRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._insert = _insert(conn.dialect.name)

    async def rule_set(self, digest: str, rules: str, now: datetime) -> int:
        found = (await self._conn.execute(_RULE_SET, {"digest": digest})).scalar()
        if found is not None:
            return int(found)
        stmt = (
            self._insert(rule_sets)
            .values(digest=digest, rules=rules, created_at=now)
            .on_conflict_do_nothing()
            .returning(rule_sets.c.id)
        )
        new = (await self._conn.execute(stmt)).scalar()
        if new is None:  # stored meanwhile by a concurrent transaction
            new = (await self._conn.execute(_RULE_SET, {"digest": digest})).scalar_one()
        return int(new)

    async def add_event(
        self,
        *,
        external_id: str,
        type: str,
        user_id: int,
        amount: Decimal,
        occurred_at: datetime,
        received_at: datetime,
    ) -> int | None:
        stmt = (
            self._insert(program_events)
            .values(
                external_id=external_id,
                type=type,
                user_id=user_id,
                amount=amount,
                occurred_at=occurred_at,
                received_at=received_at,
            )
            .on_conflict_do_nothing(index_elements=["external_id"])
            .returning(program_events.c.id)
        )
        new = (await self._conn.execute(stmt)).scalar()
        return int(new) if new is not None else None

    async def event(self, external_id: str) -> StoredEvent | None:
        row = (await self._conn.execute(_EVENT, {"external_id": external_id})).first()
        return to_event(row) if row is not None else None

    async def set_event_status(self, event_id: int, status: ReferralStatus | None) -> None:
        await self._conn.execute(
            update(program_events)
            .where(program_events.c.id == event_id)
            .values(referral_status=status.value if status else None)
        )

    async def record_status(
        self,
        *,
        referee_id: int,
        referrer_id: int | None,
        status: ReferralStatus,
        reason: str,
        actor: str | None,
        now: datetime,
    ) -> None:
        await self._conn.execute(
            status_changes.insert().values(
                referee_id=referee_id,
                referrer_id=referrer_id,
                status=status.value,
                reason=reason[:300],
                actor=actor[:64] if actor else None,
                created_at=now,
            )
        )


class SqlOutboxRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._dialect = conn.dialect.name

    async def add(self, uid: str, type: str, payload: dict[str, Any], now: datetime) -> None:
        await self._conn.execute(
            outbox.insert().values(
                uid=uid,
                type=type,
                payload=json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
                created_at=now,
            )
        )

    async def undispatched(self, limit: int) -> Sequence[OutboxEvent]:
        stmt = (
            select(outbox)
            .where(outbox.c.dispatched_at.is_(None))
            .order_by(outbox.c.id)
            .limit(limit)
        )
        if self._dialect == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        return [to_outbox_event(row) for row in await self._conn.execute(stmt)]

    async def mark_dispatched(self, event_ids: Sequence[int], now: datetime) -> None:
        if event_ids:
            await self._conn.execute(
                update(outbox).where(outbox.c.id.in_(list(event_ids))).values(dispatched_at=now)
            )

    async def oldest_undelivered(self) -> datetime | None:
        undispatched = select(func.min(outbox.c.created_at)).where(outbox.c.dispatched_at.is_(None))
        waiting = (
            select(func.min(outbox.c.created_at))
            .select_from(deliveries.join(outbox, deliveries.c.event_id == outbox.c.id))
            .where(deliveries.c.status == "pending")
        )
        first = (await self._conn.execute(undispatched)).scalar()
        second = (await self._conn.execute(waiting)).scalar()
        moments = [m for m in (first, second) if m is not None]
        return min(moments) if moments else None
