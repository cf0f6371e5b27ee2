"""Webhook endpoints, their deliveries (one per event and endpoint) and each attempt."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain.entities import (
    ClaimedDelivery,
    DeliveryResult,
    WebhookDelivery,
    WebhookEndpoint,
)
from db.mapping import to_attempt, to_endpoint
from db.models import (
    OutboxEventRow,
    WebhookAttemptRow,
    WebhookDeliveryRow,
    WebhookEndpointRow,
)

endpoints = cast(Table, WebhookEndpointRow.__table__)
deliveries = cast(Table, WebhookDeliveryRow.__table__)
attempts = cast(Table, WebhookAttemptRow.__table__)
outbox = cast(Table, OutboxEventRow.__table__)


class SqlWebhookRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._dialect = conn.dialect.name

    # ----- endpoints -----------------------------------------------------------------------

    async def add_endpoint(
        self,
        *,
        url: str,
        events: Sequence[str],
        description: str | None,
        secret: str,
        include_phones: bool,
        now: datetime,
    ) -> WebhookEndpoint:
        result = await self._conn.execute(
            endpoints.insert()
            .values(
                url=url,
                events=json.dumps(list(events)),
                description=description,
                secret=secret,
                include_phones=include_phones,
                enabled=True,
                created_at=now,
            )
            .returning(*endpoints.c)
        )
        return to_endpoint(result.one())

    async def endpoint(self, endpoint_id: int) -> WebhookEndpoint | None:
        row = (
            await self._conn.execute(select(endpoints).where(endpoints.c.id == endpoint_id))
        ).first()
        return to_endpoint(row) if row is not None else None

    async def endpoints(self) -> Sequence[WebhookEndpoint]:
        stmt = select(endpoints).order_by(endpoints.c.id)
        return [to_endpoint(row) for row in await self._conn.execute(stmt)]

    async def failing_endpoints(self) -> Sequence[WebhookEndpoint]:
        stmt = (
            select(endpoints)
            .where(or_(endpoints.c.failing_since.is_not(None), endpoints.c.enabled.is_(False)))
            .order_by(endpoints.c.id)
        )
        return [to_endpoint(row) for row in await self._conn.execute(stmt)]

    async def update_endpoint(self, endpoint_id: int, **values: Any) -> None:
        if "events" in values:
            values["events"] = json.dumps(list(values["events"]))
        await self._conn.execute(
            update(endpoints).where(endpoints.c.id == endpoint_id).values(**values)
        )

    async def delete_endpoint(self, endpoint_id: int) -> bool:
        result = await self._conn.execute(delete(endpoints).where(endpoints.c.id == endpoint_id))
        return bool(result.rowcount)

    # ----- deliveries ----------------------------------------------------------------------

    async def add_deliveries(self, rows: Sequence[tuple[int, int]], now: datetime) -> None:
        if not rows:
            return
        insert = postgresql.insert if self._dialect == "postgresql" else sqlite.insert
        values = [
            {
                "endpoint_id": endpoint_id,
                "event_id": event_id,
                "status": "pending",
                "attempts": 0,
                "queued_at": now,
                "next_attempt_at": now,
            }
            for endpoint_id, event_id in rows
        ]
        await self._conn.execute(insert(deliveries).on_conflict_do_nothing(), values)

    async def claim(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> Sequence[ClaimedDelivery]:
        head = (
            select(func.min(deliveries.c.event_id))
            .where(deliveries.c.endpoint_id == endpoints.c.id, deliveries.c.status == "pending")
            .correlate(endpoints)
            .scalar_subquery()
        )
        stmt = (
            select(
                deliveries.c.id,
                deliveries.c.endpoint_id,
                deliveries.c.attempts,
                deliveries.c.queued_at,
                endpoints.c.url,
                endpoints.c.secret,
                endpoints.c.include_phones,
                endpoints.c.failing_since,
                outbox.c.uid,
                outbox.c.type,
                outbox.c.payload,
                outbox.c.created_at.label("event_created_at"),
            )
            .select_from(
                deliveries.join(endpoints, endpoints.c.id == deliveries.c.endpoint_id).join(
                    outbox, outbox.c.id == deliveries.c.event_id
                )
            )
            .where(
                endpoints.c.enabled.is_(True),
                deliveries.c.status == "pending",
                deliveries.c.event_id == head,
                deliveries.c.next_attempt_at <= now,
                or_(deliveries.c.locked_until.is_(None), deliveries.c.locked_until <= now),
            )
            .order_by(deliveries.c.next_attempt_at)
            .limit(limit)
        )
        if self._dialect == "postgresql":
            stmt = stmt.with_for_update(of=deliveries, skip_locked=True)
        rows = list(await self._conn.execute(stmt))
        if not rows:
            return []
        await self._conn.execute(
            update(deliveries)
            .where(deliveries.c.id.in_([r.id for r in rows]))
            .values(locked_until=lease_until, attempts=deliveries.c.attempts + 1)
        )
        return [
            ClaimedDelivery(
                id=r.id,
                endpoint_id=r.endpoint_id,
                url=r.url,
                secret=r.secret,
                include_phones=bool(r.include_phones),
                event_uid=r.uid,
                event_type=r.type,
                payload=json.loads(r.payload),
                event_created_at=r.event_created_at,
                attempts=r.attempts + 1,
                queued_at=r.queued_at,
                failing_since=r.failing_since,
            )
            for r in rows
        ]

    async def record_attempt(self, delivery_id: int, now: datetime, result: DeliveryResult) -> None:
        await self._conn.execute(
            attempts.insert().values(
                delivery_id=delivery_id,
                attempted_at=now,
                status_code=result.status_code,
                duration_ms=result.duration_ms,
                response=result.response[:1024] if result.response else None,
                error=result.error[:300] if result.error else None,
            )
        )

    async def finish(self, delivery_id: int, status: str, now: datetime) -> None:
        await self._conn.execute(
            update(deliveries)
            .where(deliveries.c.id == delivery_id)
            .values(status=status, finished_at=now, locked_until=None)
        )

    async def retry_at(self, delivery_id: int, at: datetime) -> None:
        await self._conn.execute(
            update(deliveries)
            .where(deliveries.c.id == delivery_id)
            .values(next_attempt_at=at, locked_until=None)
        )

    async def deliveries(
        self, endpoint_id: int, status: str | None, limit: int, after: int | None
    ) -> Sequence[WebhookDelivery]:
        stmt = (
            select(deliveries, outbox.c.uid, outbox.c.type.label("event_type"))
            .select_from(deliveries.join(outbox, outbox.c.id == deliveries.c.event_id))
            .where(deliveries.c.endpoint_id == endpoint_id)
        )
        if status is not None:
            stmt = stmt.where(deliveries.c.status == status)
        if after is not None:
            stmt = stmt.where(deliveries.c.id < after)
        rows = list(await self._conn.execute(stmt.order_by(deliveries.c.id.desc()).limit(limit)))
        logs: dict[int, list[Any]] = {r.id: [] for r in rows}
        if rows:
            found = await self._conn.execute(
                select(attempts)
                .where(attempts.c.delivery_id.in_(list(logs)))
                .order_by(attempts.c.id)
            )
            for attempt in found:
                logs[attempt.delivery_id].append(to_attempt(attempt))
        return [
            WebhookDelivery(
                id=r.id,
                endpoint_id=r.endpoint_id,
                event_uid=r.uid,
                event_type=r.event_type,
                status=r.status,
                attempts=r.attempts,
                queued_at=r.queued_at,
                next_attempt_at=r.next_attempt_at,
                finished_at=r.finished_at,
                log=tuple(logs[r.id]),
            )
            for r in rows
        ]

    async def requeue(self, endpoint_id: int, event_uid: str, now: datetime) -> bool:
        event_id = (
            await self._conn.execute(select(outbox.c.id).where(outbox.c.uid == event_uid))
        ).scalar()
        if event_id is None:
            return False
        result = await self._conn.execute(
            update(deliveries)
            .where(and_(deliveries.c.endpoint_id == endpoint_id, deliveries.c.event_id == event_id))
            .values(
                status="pending",
                queued_at=now,
                next_attempt_at=now,
                locked_until=None,
                finished_at=None,
            )
        )
        if not result.rowcount:
            await self.add_deliveries([(endpoint_id, int(event_id))], now)
        return True
