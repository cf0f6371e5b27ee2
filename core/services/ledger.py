"""Balances and ledger pages, and pending rewards becoming available when their time comes."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from core.domain import events
from core.domain.cursor import check_page_size, decode_cursor, encode_cursor
from core.domain.entities import Balance, LedgerEntry, RewardPage
from core.domain.rewards import ZERO, RewardStatus
from core.ports import Clock, UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

RELEASE_BATCH = 500


def as_of(entry: LedgerEntry, now: datetime) -> LedgerEntry:
    """The entry as a reader sees it at ``now``: pending whose time has come reads available
    (the periodic job makes it so in storage soon after)."""
    if (
        entry.status == RewardStatus.PENDING
        and entry.available_at is not None
        and entry.available_at <= now
    ):
        return replace(entry, status=RewardStatus.AVAILABLE)
    return entry


async def make_available(
    tx: UnitOfWork, entries: Sequence[LedgerEntry], now: datetime, unit: str
) -> list[LedgerEntry]:
    """Move pending entries to available, in the balances too; those no longer pending are
    skipped (another process got there first)."""
    await tx.ledger.lock_balances(sorted({e.user_id for e in entries}))
    done = []
    for entry in entries:
        if not await tx.ledger.settle(entry.id, RewardStatus.AVAILABLE, now):
            continue
        if entry.amount:
            await tx.ledger.move_balance(
                entry.user_id, available=entry.amount, pending=-entry.amount
            )
        released = replace(entry, status=RewardStatus.AVAILABLE)
        await tx.outbox.add(
            events.new_event_uid(),
            events.REWARD_AVAILABLE,
            events.reward(released, unit, released=True),
            now,
        )
        done.append(released)
    return done


async def reverse(
    tx: UnitOfWork, entries: Sequence[LedgerEntry], now: datetime, unit: str
) -> list[LedgerEntry]:
    """Take back pending entries before they become available."""
    await tx.ledger.lock_balances(sorted({e.user_id for e in entries}))
    done = []
    for entry in entries:
        if not await tx.ledger.settle(entry.id, RewardStatus.REVERSED, now):
            continue
        if entry.amount:
            await tx.ledger.move_balance(entry.user_id, available=ZERO, pending=-entry.amount)
        reversed_entry = replace(entry, status=RewardStatus.REVERSED)
        await tx.outbox.add(
            events.new_event_uid(),
            events.REWARD_REVERSED,
            events.reward(reversed_entry, unit),
            now,
        )
        done.append(reversed_entry)
    return done


class LedgerService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, unit: str) -> None:
        self._uow = uow
        self._clock = clock
        self.unit = unit

    async def balance(self, user_id: int) -> Balance:
        async with self._uow(read_only=True) as tx:
            return await tx.ledger.balance(user_id, self._clock.now())

    async def rewards(self, user_id: int, limit: int = 20, cursor: str | None = None) -> RewardPage:
        """The balance and one keyset page of the user's ledger, newest first."""
        check_page_size(limit)
        after = decode_cursor(cursor) if cursor else None
        now = self._clock.now()
        async with self._uow(read_only=True) as tx:
            balance = await tx.ledger.balance(user_id, now)
            items = await tx.ledger.page(user_id, limit + 1, after)
        page = tuple(as_of(e, now) for e in items[:limit])
        next_cursor = (
            encode_cursor(page[-1].created_at, page[-1].id) if len(items) > limit and page else None
        )
        return RewardPage(balance=balance, unit=self.unit, items=page, next_cursor=next_cursor)

    async def release_due(self, limit: int = RELEASE_BATCH) -> list[LedgerEntry]:
        """One batch of pending rewards whose hold has passed, made available (periodic job).

        Safe with several processes: each takes rows the others do not hold, and an entry is
        moved only if it is still pending.
        """
        now = self._clock.now()
        async with self._uow() as tx:
            due = await tx.ledger.due(now, limit)
            released = await make_available(tx, due, now, self.unit) if due else []
        if released:
            log.info("%d pending rewards became available", len(released))
        return released
