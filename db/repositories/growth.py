"""Clicks and campaigns, the leaderboard counters, contests and the audit log."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import BigInteger, Table, func, select, type_coerce, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain.entities import AuditRecord, Campaign, Click, Contest, FunnelCounts
from db.models import (
    AuditLogRow,
    CampaignRow,
    ContestRow,
    ContestWinnerRow,
    InviteClickRow,
    LedgerEntryRow,
    ReferrerScoreRow,
    UserRow,
)

campaigns = cast(Table, CampaignRow.__table__)
clicks = cast(Table, InviteClickRow.__table__)
scores = cast(Table, ReferrerScoreRow.__table__)
contests = cast(Table, ContestRow.__table__)
winners = cast(Table, ContestWinnerRow.__table__)
audit = cast(Table, AuditLogRow.__table__)
users = cast(Table, UserRow.__table__)
ledger = cast(Table, LedgerEntryRow.__table__)


def _campaign(row: Any) -> Campaign:
    return Campaign(
        id=row.id, owner_id=row.owner_id, name=row.name, slug=row.slug, created_at=row.created_at
    )


def _contest(row: Any) -> Contest:
    return Contest(
        id=row.id,
        title=row.title,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        metric=row.metric,
        prizes=tuple(json.loads(row.prizes)),
        created_at=row.created_at,
        created_by=row.created_by,
        closed_at=row.closed_at,
    )


class SqlGrowthRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._dialect = conn.dialect.name
        self._insert = postgresql.insert if self._dialect == "postgresql" else sqlite.insert

    async def _count(self, stmt: Any) -> int:
        return int((await self._conn.execute(stmt)).scalar_one())

    # ----- clicks and campaigns ------------------------------------------------------------

    async def add_click(
        self, telegram_id: int, invite_code: str | None, campaign_id: int | None, now: datetime
    ) -> None:
        await self._conn.execute(
            clicks.insert().values(
                telegram_id=telegram_id,
                invite_code=invite_code,
                campaign_id=campaign_id,
                created_at=now,
            )
        )

    async def last_click(self, telegram_id: int, since: datetime) -> Click | None:
        row = (
            await self._conn.execute(
                select(clicks)
                .where(clicks.c.telegram_id == telegram_id, clicks.c.created_at >= since)
                .order_by(clicks.c.id.desc())
                .limit(1)
            )
        ).first()
        if row is None:
            return None
        return Click(
            id=row.id,
            telegram_id=row.telegram_id,
            invite_code=row.invite_code,
            campaign_id=row.campaign_id,
            created_at=row.created_at,
        )

    async def convert(self, click_id: int, telegram_id: int, user_id: int, now: datetime) -> bool:
        """Count the login for this click, once per person (no click of theirs counted yet)."""
        counted = await self._count(
            select(func.count()).where(
                clicks.c.telegram_id == telegram_id, clicks.c.converted_user_id.is_not(None)
            )
        )
        if counted:
            return False
        result = await self._conn.execute(
            update(clicks)
            .where(clicks.c.id == click_id, clicks.c.converted_user_id.is_(None))
            .values(converted_user_id=user_id, converted_at=now)
        )
        return bool(result.rowcount)

    async def add_campaign(
        self, owner_id: int | None, name: str, slug: str, now: datetime
    ) -> Campaign | None:
        stmt = (
            self._insert(campaigns)
            .values(
                owner_id=owner_id, owner_key=owner_id or 0, name=name, slug=slug, created_at=now
            )
            .on_conflict_do_nothing()
            .returning(*campaigns.c)
        )
        row = (await self._conn.execute(stmt)).first()
        return _campaign(row) if row is not None else None

    async def campaign_by_slug(self, owner_id: int | None, slug: str) -> Campaign | None:
        row = (
            await self._conn.execute(
                select(campaigns).where(
                    campaigns.c.owner_key == (owner_id or 0), campaigns.c.slug == slug
                )
            )
        ).first()
        return _campaign(row) if row is not None else None

    async def campaigns(self, owner_id: int | None) -> Sequence[Campaign]:
        stmt = (
            select(campaigns)
            .where(campaigns.c.owner_key == (owner_id or 0))
            .order_by(campaigns.c.id)
        )
        return [_campaign(r) for r in await self._conn.execute(stmt)]

    async def all_campaigns(self) -> Sequence[Campaign]:
        return [_campaign(r) for r in await self._conn.execute(select(campaigns).order_by("id"))]

    async def funnel(
        self,
        since: datetime,
        until: datetime,
        *,
        invite_code: str | None = None,
        referrer_id: int | None = None,
        campaign_id: int | None = None,
    ) -> FunnelCounts:
        """Clicks, logins, joined, qualified and rewards in [since, until) of one referrer
        (their code and id), one campaign, or both."""
        click_filter = [clicks.c.created_at >= since, clicks.c.created_at < until]
        login_filter = [clicks.c.converted_at >= since, clicks.c.converted_at < until]
        ref_filter = []
        if invite_code is not None:
            click_filter.append(clicks.c.invite_code == invite_code)
            login_filter.append(clicks.c.invite_code == invite_code)
        if campaign_id is not None:
            click_filter.append(clicks.c.campaign_id == campaign_id)
            login_filter.append(clicks.c.campaign_id == campaign_id)
            ref_filter.append(users.c.campaign_id == campaign_id)
        if referrer_id is not None:
            ref_filter.append(users.c.referrer_id == referrer_id)
        n_clicks = await self._count(select(func.count()).select_from(clicks).where(*click_filter))
        n_logins = await self._count(
            select(func.count(func.distinct(clicks.c.converted_user_id))).where(*login_filter)
        )
        n_joined = await self._count(
            select(func.count()).where(
                *ref_filter, users.c.referred_at >= since, users.c.referred_at < until
            )
        )
        n_qualified = await self._count(
            select(func.count()).where(
                *ref_filter,
                users.c.referral_status == "qualified",
                users.c.qualified_at >= since,
                users.c.qualified_at < until,
            )
        )
        earned = select(func.coalesce(func.sum(_cents(ledger.c.amount)), 0)).where(
            ledger.c.created_at >= since,
            ledger.c.created_at < until,
            ledger.c.status != "reversed",
        )
        if referrer_id is not None:
            earned = earned.where(ledger.c.user_id == referrer_id)
        if campaign_id is not None:
            earned = earned.where(
                ledger.c.referral_user_id.in_(
                    select(users.c.id).where(users.c.campaign_id == campaign_id)
                )
            )
        cents = int((await self._conn.execute(earned)).scalar_one() or 0)
        return FunnelCounts(
            clicks=n_clicks,
            logins=n_logins,
            joined=n_joined,
            qualified=n_qualified,
            rewards=(Decimal(cents) / 100).quantize(Decimal("0.01")),
        )

    # ----- leaderboard counters --------------------------------------------------------------

    async def bump_score(
        self, referrer_id: int, periods: Sequence[tuple[str, date]], *, joined: int, qualified: int
    ) -> None:
        for period, start in periods:
            new = self._insert(scores).values(
                period=period,
                period_start=start,
                referrer_id=referrer_id,
                joined=max(joined, 0),
                qualified=max(qualified, 0),
            )
            await self._conn.execute(
                new.on_conflict_do_update(
                    index_elements=["period", "period_start", "referrer_id"],
                    set_={
                        "joined": scores.c.joined + joined,
                        "qualified": scores.c.qualified + qualified,
                    },
                )
            )

    async def top(self, period: str, start: date, metric: str, limit: int) -> Sequence[Any]:
        column = scores.c[metric]
        stmt = (
            select(
                scores.c.referrer_id,
                column.label("count"),
                users.c.first_name,
                users.c.last_name,
                users.c.phone,
            )
            .select_from(scores.join(users, users.c.id == scores.c.referrer_id))
            .where(scores.c.period == period, scores.c.period_start == start, column > 0)
            .order_by(column.desc(), scores.c.referrer_id)
            .limit(limit)
        )
        return list(await self._conn.execute(stmt))

    async def score_and_rank(
        self, period: str, start: date, metric: str, referrer_id: int
    ) -> tuple[int, int] | None:
        column = scores.c[metric]
        mine = (
            await self._conn.execute(
                select(column).where(
                    scores.c.period == period,
                    scores.c.period_start == start,
                    scores.c.referrer_id == referrer_id,
                )
            )
        ).scalar()
        if not mine:
            return None
        above = await self._count(
            select(func.count()).where(
                scores.c.period == period, scores.c.period_start == start, column > mine
            )
        )
        return int(mine), above + 1

    # ----- contests ----------------------------------------------------------------------------

    async def add_contest(
        self,
        *,
        title: str,
        starts_at: datetime,
        ends_at: datetime,
        metric: str,
        prizes: Sequence[str],
        created_by: str,
        now: datetime,
    ) -> Contest:
        row = (
            await self._conn.execute(
                contests.insert()
                .values(
                    title=title,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    metric=metric,
                    prizes=json.dumps(list(prizes), ensure_ascii=False),
                    created_at=now,
                    created_by=created_by,
                )
                .returning(*contests.c)
            )
        ).one()
        return _contest(row)

    async def contest(self, contest_id: int) -> Contest | None:
        row = (
            await self._conn.execute(select(contests).where(contests.c.id == contest_id))
        ).first()
        return _contest(row) if row is not None else None

    async def contests(self) -> Sequence[Contest]:
        stmt = select(contests).order_by(contests.c.starts_at.desc(), contests.c.id.desc())
        return [_contest(r) for r in await self._conn.execute(stmt)]

    async def running(self, now: datetime) -> Contest | None:
        row = (
            await self._conn.execute(
                select(contests)
                .where(contests.c.starts_at <= now, contests.c.ends_at > now)
                .order_by(contests.c.ends_at)
                .limit(1)
            )
        ).first()
        return _contest(row) if row is not None else None

    async def due_contests(self, now: datetime) -> Sequence[Contest]:
        stmt = select(contests).where(contests.c.ends_at <= now, contests.c.closed_at.is_(None))
        if self._dialect == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        return [_contest(r) for r in await self._conn.execute(stmt)]

    async def standings(self, contest: Contest, limit: int) -> Sequence[Any]:
        """Referrers by their referrals in the contest's window (rejected ones left out)."""
        referee = users.alias("referee")
        if contest.metric == "qualified":
            moment, counted = referee.c.qualified_at, referee.c.referral_status == "qualified"
        else:
            moment, counted = referee.c.referred_at, referee.c.referral_status != "rejected"
        per_referrer = (
            select(referee.c.referrer_id.label("referrer_id"), func.count().label("count"))
            .where(
                referee.c.referrer_id.is_not(None),
                moment >= contest.starts_at,
                moment < contest.ends_at,
                counted,
            )
            .group_by(referee.c.referrer_id)
            .subquery()
        )
        stmt = (
            select(
                per_referrer.c.referrer_id,
                per_referrer.c.count,
                users.c.first_name,
                users.c.last_name,
                users.c.phone,
            )
            .select_from(per_referrer.join(users, users.c.id == per_referrer.c.referrer_id))
            .order_by(per_referrer.c.count.desc(), per_referrer.c.referrer_id)
            .limit(limit)
        )
        return list(await self._conn.execute(stmt))

    async def close_contest(
        self, contest_id: int, rows: Sequence[tuple[int, int, int, str | None]], now: datetime
    ) -> None:
        """Fix the winners: (user id, rank, score, prize)."""
        if rows:
            await self._conn.execute(
                winners.insert(),
                [
                    {"contest_id": contest_id, "user_id": u, "rank": r, "score": s, "prize": p}
                    for u, r, s, p in rows
                ],
            )
        await self._conn.execute(
            update(contests).where(contests.c.id == contest_id).values(closed_at=now)
        )

    async def winners(self, contest_id: int) -> Sequence[Any]:
        stmt = (
            select(
                winners.c.user_id,
                winners.c.rank,
                winners.c.score,
                winners.c.prize,
                users.c.first_name,
                users.c.last_name,
                users.c.phone,
            )
            .select_from(winners.join(users, users.c.id == winners.c.user_id))
            .where(winners.c.contest_id == contest_id)
            .order_by(winners.c.rank, winners.c.user_id)
        )
        return list(await self._conn.execute(stmt))

    # ----- the audit log ---------------------------------------------------------------------

    async def add_audit(
        self,
        actor: str,
        action: str,
        subject: str,
        reason: str | None,
        details: dict[str, Any] | None,
        now: datetime,
    ) -> None:
        await self._conn.execute(
            audit.insert().values(
                actor=actor[:64],
                action=action[:64],
                subject=subject[:100],
                reason=reason[:300] if reason else None,
                details=json.dumps(details, ensure_ascii=False, default=str) if details else None,
                created_at=now,
            )
        )

    async def audit_page(self, limit: int, after: int | None) -> Sequence[AuditRecord]:
        stmt = select(audit)
        if after is not None:
            stmt = stmt.where(audit.c.id < after)
        rows = await self._conn.execute(stmt.order_by(audit.c.id.desc()).limit(limit))
        return [
            AuditRecord(
                id=r.id,
                actor=r.actor,
                action=r.action,
                subject=r.subject,
                reason=r.reason,
                details=json.loads(r.details) if r.details else None,
                created_at=r.created_at,
            )
            for r in rows
        ]


def _cents(column: Any) -> Any:
    """The money column as raw cents, for sums."""
    return type_coerce(column, BigInteger)
