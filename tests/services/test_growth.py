"""Clicks and attribution, campaigns and stats, leaderboards and contests."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.domain.entities import User, UserRef
from core.domain.errors import InvalidInput
from core.domain.growth import Period, parse_start_payload, period_start, start_payload
from core.services import Services, TelegramProfile
from db.models import TelegramMessageRow
from tests.fakes.clock import FrozenClock
from tests.fakes.sms import RecordingSmsSender
from tests.services.helpers import sign_up

NAMES = ["Anna", "Boris", "Vera", "Gleb"]


async def telegram_login(
    services: Services, sms: RecordingSmsSender, phone: str, telegram_id: int
) -> Any:
    """A login from the bot, with no invite in the dialog (its state is gone)."""
    await services.auth.request_code(phone, f"tg:{telegram_id}")
    return await services.auth.login_with_pending_invite(
        phone, sms.last_code(phone), None, TelegramProfile(telegram_id)
    )


class TestAttribution:
    async def test_a_click_then_a_login_days_later_applies_the_invite(
        self, services: Services, sms: RecordingSmsSender, clock: FrozenClock
    ) -> None:
        anna = await sign_up(services, sms, "+79990000001", clock)
        await services.growth.record_click(42, anna.invite_code)
        clock.advance(days=10)
        result = await telegram_login(services, sms, "+79990000002", 42)
        assert result.activation is not None and result.user.referrer_id == anna.id

    async def test_a_second_click_moves_the_attribution(
        self, services: Services, sms: RecordingSmsSender, clock: FrozenClock
    ) -> None:
        anna = await sign_up(services, sms, "+79990000001", clock)
        boris = await sign_up(services, sms, "+79990000002", clock)
        await services.growth.record_click(42, anna.invite_code)
        clock.advance(days=1)
        await services.growth.record_click(42, boris.invite_code.lower())
        result = await telegram_login(services, sms, "+79990000003", 42)
        assert result.user.referrer_id == boris.id

    @pytest.mark.parametrize(("days", "applied"), [(29, True), (31, False)])
    async def test_a_click_counts_within_the_window_only(
        self,
        services: Services,
        sms: RecordingSmsSender,
        clock: FrozenClock,
        days: int,
        applied: bool,
    ) -> None:
        anna = await sign_up(services, sms, "+79990000001", clock)
        await services.growth.record_click(42, anna.invite_code)
        clock.advance(days=days)
        result = await telegram_login(services, sms, "+79990000002", 42)
        assert (result.user.referrer_id == anna.id) is applied

    @pytest.mark.parametrize(
        "payload", [None, "", "hello", "ZZ", "c_", "7KQ2XD-Bad Slug", "x" * 65]
    )
    def test_payloads_that_are_neither_invite_nor_campaign_are_ignored(
        self, payload: str | None
    ) -> None:
        assert parse_start_payload(payload) is None

    def test_payloads_round_trip(self) -> None:
        for code, slug in [("7KQ2XD", None), ("7KQ2XD", "my_channel"), (None, "partner")]:
            parsed = parse_start_payload(start_payload(code, slug))
            assert parsed is not None and (parsed.invite_code, parsed.campaign_slug) == (code, slug)
        assert len(start_payload("7KQ2XD", "x" * 24)) <= 64


class TestCampaigns:
    async def test_a_campaign_link_carries_the_invite_and_the_slug(
        self, services: Services, sms: RecordingSmsSender, clock: FrozenClock
    ) -> None:
        anna = await sign_up(services, sms, "+79990000001", clock)
        campaign = await services.growth.create_campaign(anna.id, "Мой канал / My Channel!")
        assert campaign.slug == "my_channel"
        assert (
            campaign.link == f"https://t.me/referral_test_bot?start={anna.invite_code}-my_channel"
        )
        again = await services.growth.create_campaign(anna.id, "My channel")
        assert again.slug == "my_channel_2"
        cyrillic = await services.growth.create_campaign(anna.id, "Канал")
        assert cyrillic.slug.startswith("c") and len(cyrillic.slug) == 7

    async def test_stats_count_each_step_once(
        self, services: Services, sms: RecordingSmsSender, clock: FrozenClock
    ) -> None:
        anna = await sign_up(services, sms, "+79990000001", clock)
        campaign = await services.growth.create_campaign(anna.id, "channel")
        payload = start_payload(anna.invite_code, campaign.slug)
        for tg in (100, 101, 102):
            await services.growth.record_click(tg, payload)
        await services.growth.record_click(100, payload)  # the same person clicks twice
        await services.growth.record_click(103, anna.invite_code)  # not through the campaign
        clock.advance(60)
        # Three of them log in at once, one of them twice in a row.
        logins = [(f"+7999100000{i}", 100 + i) for i in range(3)]
        await asyncio.gather(*(telegram_login(services, sms, p, t) for p, t in logins))
        clock.advance(61)
        await telegram_login(services, sms, "+79991000000", 100)
        await services.program.record_event(
            event_id="o1", type="purchase", user=UserRef(telegram_id=100), amount="1.00"
        )
        stats = await services.growth.stats(
            anna.id, clock.now() - timedelta(days=1), clock.now() + timedelta(seconds=1)
        )
        total = stats.total
        assert (total.clicks, total.logins, total.joined, total.qualified) == (5, 3, 3, 1)
        [(shown, counts)] = stats.campaigns
        assert shown.slug == campaign.slug
        assert (counts.clicks, counts.logins, counts.joined, counts.qualified) == (4, 3, 3, 1)

    async def test_a_period_must_make_sense(self, services: Services) -> None:
        now = datetime(2026, 1, 15, tzinfo=UTC)
        with pytest.raises(InvalidInput):
            await services.growth.stats(1, now, now - timedelta(days=1))
        with pytest.raises(InvalidInput):
            await services.growth.stats(1, now - timedelta(days=400), now)


def test_weeks_start_on_monday_and_months_on_the_first() -> None:
    thursday = datetime(2026, 1, 15, 23, 0, tzinfo=UTC)
    assert period_start(Period.WEEK, thursday).isoformat() == "2026-01-12"
    assert period_start(Period.MONTH, thursday).isoformat() == "2026-01-01"


class TestLeaderboard:
    async def crowd(
        self, services: Services, sms: RecordingSmsSender, clock: FrozenClock, counts: list[int]
    ) -> list[User]:
        """Referrers with these numbers of referrals (Anna, Boris, Vera, Gleb Petrova)."""
        referrers = []
        n = 0
        for i, count in enumerate(counts):
            owner = await sign_up(services, sms, f"+7999200{i:04d}", clock)
            await services.accounts.update_names(owner.id, NAMES[i], "Petrova")
            for _ in range(count):
                n += 1
                friend = await sign_up(services, sms, f"+7999300{n:04d}", clock)
                await services.referrals.activate_invite(friend.id, owner.invite_code)
            referrers.append(owner)
        return referrers

    async def test_the_top_with_ties_the_callers_rank_and_no_phones(
        self, services: Services, sms: RecordingSmsSender, clock: FrozenClock
    ) -> None:
        *_, gleb = await self.crowd(services, sms, clock, [3, 5, 3, 1])
        board = await services.leaderboard.leaderboard(gleb.id, "week", "joined", 3)
        assert [(e.rank, e.name, e.count) for e in board.entries] == [
            (1, "Boris P.", 5),
            (2, "Anna P.", 3),
            (2, "Vera P.", 3),
        ]
        assert board.me is not None and (board.me.rank, board.me.count) == (4, 1)
        nobody = await services.leaderboard.leaderboard(board.entries[0].user_id + 100, "all")
        assert nobody.me is None
        for entry in board.entries:
            assert "+" not in entry.name

    async def test_periods_count_their_own_referrals(
        self, services: Services, sms: RecordingSmsSender, clock: FrozenClock
    ) -> None:
        clock.current = datetime(2026, 1, 14, 12, tzinfo=UTC)  # a Wednesday
        [a] = await self.crowd(services, sms, clock, [2])
        clock.current = datetime(2026, 1, 20, 12, tzinfo=UTC)  # the next week, same month
        friend = await sign_up(services, sms, "+79994000001", clock)
        await services.referrals.activate_invite(friend.id, a.invite_code)
        counts = {
            p: (await services.leaderboard.leaderboard(a.id, p)).entries[0].count
            for p in ("week", "month", "all")
        }
        assert counts == {"week": 1, "month": 3, "all": 3}

    async def test_qualified_counts_and_a_rejection_takes_it_off(
        self, services: Services, sms: RecordingSmsSender, clock: FrozenClock
    ) -> None:
        [a] = await self.crowd(services, sms, clock, [2])
        page = await services.referrals.referrals(a.id)
        first, _ = page.items
        await services.program.record_event(
            event_id="e1", type="purchase", user=UserRef(id=first.id), amount="1"
        )
        board = await services.leaderboard.leaderboard(a.id, "all", "qualified")
        assert [e.count for e in board.entries] == [1]
        await services.program.reject(first.id, "fake", actor="admin:test")
        assert (await services.leaderboard.leaderboard(a.id, "all", "qualified")).entries == ()
        joined = await services.leaderboard.leaderboard(a.id, "all", "joined")
        assert [e.count for e in joined.entries] == [1]

    @pytest.mark.parametrize(
        ("period", "by", "limit"),
        [("year", "joined", 10), ("week", "x", 10), ("week", "joined", 0)],
    )
    async def test_bad_queries_are_refused(
        self, services: Services, period: str, by: str, limit: int
    ) -> None:
        with pytest.raises(InvalidInput):
            await services.leaderboard.leaderboard(1, period, by, limit)


class TestContests:
    async def test_a_contest_fixes_its_winners_when_it_ends_and_tells_them(
        self,
        services: Services,
        sms: RecordingSmsSender,
        clock: FrozenClock,
        engine: AsyncEngine,
    ) -> None:
        board = TestLeaderboard()
        operator = await sign_up(services, sms, "+79995000001", clock)
        await services.admin.grant("admin:test", operator.phone)
        contest = await services.leaderboard.create_contest(
            actor="admin:test",
            title="December",
            starts_at=clock.now(),
            ends_at=clock.now() + timedelta(days=7),
            metric="joined",
            prizes=["iPhone", "AirPods"],
        )
        a, b, c = await board.crowd(services, sms, clock, [2, 3, 1])
        live = await services.leaderboard.standings(contest.id)
        assert [(e.user_id, e.count) for e in live.entries] == [(b.id, 3), (a.id, 2), (c.id, 1)]
        running = await services.leaderboard.leaderboard(a.id)
        assert running.contest is not None and running.contest.id == contest.id
        assert await services.leaderboard.close_due() == []  # not over yet
        clock.advance(days=8)
        [closed] = await services.leaderboard.close_due()
        assert closed.id == contest.id and await services.leaderboard.close_due() == []
        final = await services.leaderboard.standings(contest.id)
        assert [(w.user_id, prize) for w, prize in final.winners] == [
            (b.id, "iPhone"),
            (a.id, "AirPods"),
        ]
        # A later rejection changes nothing of a closed contest.
        friend = (await services.referrals.referrals(b.id)).items[0]
        await services.program.reject(friend.id, "fake", actor="admin:test")
        after = await services.leaderboard.standings(contest.id)
        assert after.winners == final.winners
        async with engine.connect() as conn:
            told = list(
                await conn.execute(select(TelegramMessageRow.user_id, TelegramMessageRow.kind))
            )
        assert sorted(told) == sorted(
            [(b.id, "contest_won"), (a.id, "contest_won"), (operator.id, "contest_closed")]
        )

    @pytest.mark.parametrize(
        "change",
        [
            {"title": ""},
            {"ends_at": datetime(2026, 1, 1, tzinfo=UTC)},
            {"metric": "clicks"},
            {"prizes": []},
        ],
    )
    async def test_a_bad_contest_is_refused(
        self, services: Services, clock: FrozenClock, change: dict[str, Any]
    ) -> None:
        values: dict[str, Any] = {
            "actor": "admin:test",
            "title": "December",
            "starts_at": clock.now(),
            "ends_at": clock.now() + timedelta(days=7),
            "metric": "joined",
            "prizes": ["iPhone"],
        }
        with pytest.raises(InvalidInput):
            await services.leaderboard.create_contest(**{**values, **change})
