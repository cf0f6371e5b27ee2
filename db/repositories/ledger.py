"""The ledger and the balance rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Table,
    and_,
    bindparam,
    case,
    func,
    literal,
    or_,
    select,
    tuple_,
    type_coerce,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain.entities import Balance, LedgerEntry
from core.domain.rewards import ZERO, RewardReason, RewardStatus
from db.mapping import to_entry
from db.models import LedgerEntryRow, ProgramEventRow, RewardBalanceRow

entries = cast(Table, LedgerEntryRow.__table__)
balances = cast(Table, RewardBalanceRow.__table__)
program_events = cast(Table, ProgramEventRow.__table__)

_ENTRY = select(*entries.c, program_events.c.external_id.label("event_external_id")).select_from(
    entries.outerjoin(program_events, entries.c.event_id == program_events.c.id)
)
_BALANCE = select(balances.c.available, balances.c.pending).where(
    balances.c.user_id == bindparam("user_id")
)
#: The amount column as raw cents, for sums (the ``Money`` type would convert each value).
_CENTS = type_coerce(entries.c.amount, BigInteger)
_PENDING = select(
    func.coalesce(
        func.sum(case((entries.c.available_at <= bindparam("now"), _CENTS), else_=0)), 0
    ).label("due"),
    func.min(case((entries.c.available_at > bindparam("now"), entries.c.available_at))).label(
        "next_at"
    ),
).where(entries.c.user_id == bindparam("user_id"), entries.c.status == RewardStatus.PENDING.value)


def _cents(value: Any) -> Decimal:
    """A SUM of raw cents (see ``_CENTS``) as a two-place Decimal."""
    return (Decimal(int(value or 0)) / 100).quantize(Decimal("0.01"))


class SqlLedgerRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._dialect = conn.dialect.name

    async def lock_balances(self, user_ids: Sequence[int]) -> None:
        insert = postgresql.insert if self._dialect == "postgresql" else sqlite.insert
        for user_id in sorted(user_ids):
            new = insert(balances).values(user_id=user_id, available=ZERO, pending=ZERO)
            # The no-op update takes the row lock on PostgreSQL (SQLite's BEGIN IMMEDIATE
            # already serialises writers).
            await self._conn.execute(
                new.on_conflict_do_update(
                    index_elements=["user_id"], set_={"user_id": new.excluded.user_id}
                )
            )

    async def add(
        self,
        *,
        user_id: int,
        amount: Decimal,
        status: RewardStatus,
        reason: RewardReason,
        referral_user_id: int | None,
        event_id: int | None,
        rule_set_id: int | None,
        note: str | None,
        now: datetime,
        available_at: datetime | None,
    ) -> int:
        result = await self._conn.execute(
            entries.insert()
            .values(
                user_id=user_id,
                amount=amount,
                status=status.value,
                reason=reason.value,
                referral_user_id=referral_user_id,
                event_id=event_id,
                rule_set_id=rule_set_id,
                note=note[:300] if note else None,
                created_at=now,
                available_at=available_at,
                settled_at=now if status != RewardStatus.PENDING else None,
            )
            .returning(entries.c.id)
        )
        return int(result.scalar_one())

    async def move_balance(self, user_id: int, *, available: Decimal, pending: Decimal) -> None:
        await self._conn.execute(
            update(balances)
            .where(balances.c.user_id == user_id)
            .values(
                available=balances.c.available + literal(available, balances.c.available.type),
                pending=balances.c.pending + literal(pending, balances.c.pending.type),
            )
        )

    async def earned_since(
        self, user_id: int, since: datetime, reasons: Sequence[RewardReason]
    ) -> Decimal:
        stmt = select(func.coalesce(func.sum(_CENTS), 0)).where(
            entries.c.user_id == user_id,
            entries.c.created_at > since,
            entries.c.reason.in_([r.value for r in reasons]),
            entries.c.status != RewardStatus.REVERSED.value,
            entries.c.referral_user_id != user_id,
        )
        return _cents((await self._conn.execute(stmt)).scalar())

    async def balance(self, user_id: int, now: datetime) -> Balance:
        row = (await self._conn.execute(_BALANCE, {"user_id": user_id})).first()
        if row is None:
            return Balance()
        available, pending = row.available, row.pending
        if not pending:
            return Balance(available=available, pending=pending)
        due = (await self._conn.execute(_PENDING, {"user_id": user_id, "now": now})).first()
        assert due is not None
        amount = _cents(due.due)
        return Balance(
            available=available + amount, pending=pending - amount, next_available_at=due.next_at
        )

    async def entries_of_event(self, event_id: int) -> Sequence[LedgerEntry]:
        stmt = _ENTRY.where(entries.c.event_id == event_id).order_by(entries.c.id)
        return [to_entry(row) for row in await self._conn.execute(stmt)]

    async def page(
        self, user_id: int, limit: int, after: tuple[datetime, int] | None
    ) -> Sequence[LedgerEntry]:
        stmt = _ENTRY.where(entries.c.user_id == user_id)
        if after is not None:
            created_at, last_id = after
            if self._dialect == "postgresql":
                stmt = stmt.where(
                    tuple_(entries.c.created_at, entries.c.id)
                    < tuple_(literal(created_at, entries.c.created_at.type), last_id)
                )
            else:
                stmt = stmt.where(
                    or_(
                        entries.c.created_at < created_at,
                        and_(entries.c.created_at == created_at, entries.c.id < last_id),
                    )
                )
        stmt = stmt.order_by(entries.c.created_at.desc(), entries.c.id.desc()).limit(limit)
        return [to_entry(row) for row in await self._conn.execute(stmt)]

    async def available_of_referral(self, referee_id: int) -> Sequence[LedgerEntry]:
        stmt = _ENTRY.where(
            entries.c.referral_user_id == referee_id,
            entries.c.status == RewardStatus.AVAILABLE.value,
        ).order_by(entries.c.id)
        return [to_entry(row) for row in await self._conn.execute(stmt)]

    async def pending_of_referral(self, referee_id: int) -> Sequence[LedgerEntry]:
        stmt = _ENTRY.where(
            entries.c.referral_user_id == referee_id,
            entries.c.status == RewardStatus.PENDING.value,
        ).order_by(entries.c.id)
        return [to_entry(row) for row in await self._conn.execute(stmt)]

    async def settle(self, entry_id: int, status: RewardStatus, now: datetime) -> bool:
        result = await self._conn.execute(
            update(entries)
            .where(entries.c.id == entry_id, entries.c.status == RewardStatus.PENDING.value)
            .values(status=status.value, settled_at=now)
        )
        return bool(result.rowcount)

    async def schedule(self, entry_id: int, available_at: datetime) -> None:
        await self._conn.execute(
            update(entries).where(entries.c.id == entry_id).values(available_at=available_at)
        )

    async def due(self, now: datetime, limit: int) -> Sequence[LedgerEntry]:
        stmt = (
            _ENTRY.where(
                entries.c.status == RewardStatus.PENDING.value,
                entries.c.available_at <= now,
            )
            .order_by(entries.c.available_at, entries.c.id)
            .limit(limit)
        )
        if self._dialect == "postgresql":
            stmt = stmt.with_for_update(of=entries, skip_locked=True)
        return [to_entry(row) for row in await self._conn.execute(stmt)]
