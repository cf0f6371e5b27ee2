"""Leaderboards (from counters kept with every referral) and contests (fixed when they end)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from core.domain.entities import Contest, ContestStandings, Leaderboard, LeaderboardEntry
from core.domain.errors import ContestNotFound, InvalidInput
from core.domain.growth import Metric, display_name, parse_board, period_start, score_periods
from core.domain.notifications import CONTEST_CLOSED, CONTEST_WON
from core.ports import Clock, UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

MAX_PRIZES = 20
STANDINGS = 10


async def count_joined(tx: UnitOfWork, referrer_id: int, joined_at: datetime, delta: int) -> None:
    """A referral counted (1) or taken off (-1) the referrer's boards of its join time."""
    await tx.growth.bump_score(referrer_id, score_periods(joined_at), joined=delta, qualified=0)


async def count_qualified(
    tx: UnitOfWork, referrer_id: int, qualified_at: datetime, delta: int
) -> None:
    await tx.growth.bump_score(referrer_id, score_periods(qualified_at), joined=0, qualified=delta)


def _entries(rows: Sequence[Any]) -> tuple[LeaderboardEntry, ...]:
    """Standard competition ranking: equal counts share a rank (1, 2, 2, 4)."""
    out: list[LeaderboardEntry] = []
    for index, row in enumerate(rows):
        count = int(row.count)
        rank = out[-1].rank if out and out[-1].count == count else index + 1
        name = display_name(row.first_name, row.last_name, row.phone)
        out.append(
            LeaderboardEntry(rank=rank, user_id=int(row.referrer_id), name=name, count=count)
        )
    return tuple(out)


class LeaderboardService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def leaderboard(
        self, viewer_id: int, period: str = "week", metric: str = "joined", limit: int = 10
    ) -> Leaderboard:
        """The top referrers of the period, the caller's own place, and the running contest."""
        chosen, by = parse_board(period, metric, limit)
        now = self._clock.now()
        start = period_start(chosen, now)
        async with self._uow(read_only=True) as tx:
            entries = _entries(await tx.growth.top(chosen.value, start, by.value, limit))
            mine = await tx.growth.score_and_rank(chosen.value, start, by.value, viewer_id)
            me = None
            if mine is not None:
                viewer = await tx.users.get(viewer_id)
                assert viewer is not None
                count, rank = mine
                me = LeaderboardEntry(
                    rank=rank,
                    user_id=viewer_id,
                    name=display_name(viewer.first_name, viewer.last_name, viewer.phone),
                    count=count,
                )
            contest = await tx.growth.running(now)
        return Leaderboard(
            period=chosen.value, metric=by.value, entries=entries, me=me, contest=contest
        )

    # ----- contests ----------------------------------------------------------------------

    async def create_contest(
        self,
        *,
        actor: str,
        title: str,
        starts_at: datetime,
        ends_at: datetime,
        metric: str,
        prizes: Sequence[str],
    ) -> Contest:
        clean = " ".join((title or "").split())
        if not 1 <= len(clean) <= 200:
            raise InvalidInput("title is 1 to 200 characters.", field="title")
        if starts_at.tzinfo is None or ends_at.tzinfo is None:
            raise InvalidInput("starts_at and ends_at need a time zone.", field="starts_at")
        if ends_at <= starts_at:
            raise InvalidInput("ends_at must be after starts_at.", field="ends_at")
        try:
            by = Metric(metric)
        except ValueError:
            raise InvalidInput("by is joined or qualified.", field="by") from None
        kept = [" ".join(p.split())[:200] for p in prizes]
        if not 1 <= len(kept) <= MAX_PRIZES or not all(kept):
            raise InvalidInput(f"prizes is a list of 1 to {MAX_PRIZES} texts.", field="prizes")
        now = self._clock.now()
        async with self._uow() as tx:
            contest = await tx.growth.add_contest(
                title=clean,
                starts_at=starts_at,
                ends_at=ends_at,
                metric=by.value,
                prizes=kept,
                created_by=actor,
                now=now,
            )
            await tx.growth.add_audit(
                actor, "contest.create", f"contest:{contest.id}", None, {"title": clean}, now
            )
        return contest

    async def contests(self) -> Sequence[Contest]:
        async with self._uow(read_only=True) as tx:
            return await tx.growth.contests()

    async def standings(self, contest_id: int, limit: int = STANDINGS) -> ContestStandings:
        """Live while it runs; once closed, the winners as they were fixed."""
        async with self._uow(read_only=True) as tx:
            contest = await tx.growth.contest(contest_id)
            if contest is None:
                raise ContestNotFound()
            entries = _entries(await tx.growth.standings(contest, limit))
            fixed = await tx.growth.winners(contest_id)
        winners = tuple(
            (
                LeaderboardEntry(
                    rank=int(w.rank),
                    user_id=int(w.user_id),
                    name=display_name(w.first_name, w.last_name, w.phone),
                    count=int(w.score),
                ),
                w.prize,
            )
            for w in fixed
        )
        return ContestStandings(contest=contest, entries=entries, winners=winners)

    async def close_due(self) -> list[Contest]:
        """Fix the winners of every contest that has ended (periodic job) and tell them and
        the operators. A contest is closed once, by one worker."""
        now = self._clock.now()
        closed = []
        async with self._uow() as tx:
            for contest in await tx.growth.due_contests(now):
                entries = _entries(await tx.growth.standings(contest, len(contest.prizes)))
                rows = [
                    (e.user_id, e.rank, e.count, contest.prizes[e.rank - 1])
                    for e in entries
                    if e.rank <= len(contest.prizes)
                ]
                await tx.growth.close_contest(contest.id, rows, now)
                notes: list[tuple[int, str, dict[str, Any]]] = [
                    (user_id, CONTEST_WON, {"title": contest.title, "rank": rank, "prize": prize})
                    for user_id, rank, _, prize in rows
                ]
                summary = [{"rank": e.rank, "name": e.name, "count": e.count} for e in entries]
                notes += [
                    (admin.id, CONTEST_CLOSED, {"title": contest.title, "winners": summary})
                    for admin in await tx.users.admins()
                ]
                await tx.telegram.enqueue(notes, now)
                await tx.growth.add_audit(
                    "system",
                    "contest.close",
                    f"contest:{contest.id}",
                    None,
                    {"winners": summary},
                    now,
                )
                closed.append(contest)
        for contest in closed:
            log.info("contest %d (%s) closed", contest.id, contest.title)
        return closed
