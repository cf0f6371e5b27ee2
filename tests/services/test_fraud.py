"""Fraud signals at their thresholds, the review queue, and referrers attached by hand."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from core.domain.entities import User, UserRef
from core.domain.errors import InvalidInput, InviteCycle, ReferralNotFlagged, ReferralNotFound
from core.domain.rewards import ReferralStatus, RewardStatus
from core.services import Services
from tests.fakes.clock import FrozenClock
from tests.fakes.sms import RecordingSmsSender
from tests.services.helpers import get_user, sign_up

ADMIN = "admin:test"
D = Decimal


def on(**signals: Any) -> dict[str, Any]:
    """Every signal off (they are loud with test data) but the ones given."""
    return {
        "FRAUD_REFERRALS_PER_HOUR": 1_000_000,
        "FRAUD_SAME_PREFIX_MIN": 1_000_000,
        "FRAUD_FAST_QUALIFY_SECONDS": 0,
        "FRAUD_SHARED_CLIENT": False,
        "REWARD_REFERRER_FIXED": "100",
        "REWARD_REFERRER_ON_JOIN": "10",
        "REWARD_HOLD_SECONDS": "86400",
        **signals,
    }


async def invite(
    services: Services, sms: RecordingSmsSender, owner: User, phone: str, clock: FrozenClock
) -> User:
    friend = await sign_up(services, sms, phone, clock)
    return (await services.referrals.activate_invite(friend.id, owner.invite_code)).user


class TestBurst:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return on(FRAUD_REFERRALS_PER_HOUR=5)

    async def test_more_than_the_hourly_number_is_flagged_not_refused(
        self, services: Services, sms: RecordingSmsSender, clock: FrozenClock
    ) -> None:
        owner = await sign_up(services, sms, "+79990000001", clock)
        # Different prefixes, so that only the burst can trip.
        friends = [
            await invite(services, sms, owner, f"+7{900 + i}1234567", clock) for i in range(6)
        ]
        assert [f.referral_status for f in friends[:5]] == [ReferralStatus.JOINED] * 5
        assert friends[5].referral_status == ReferralStatus.FLAGGED
        assert friends[5].referral_signals == ("burst",)
        assert (await get_user(services, owner.id)).flagged_count == 1

    async def test_an_hour_later_the_count_starts_again(
        self, services: Services, sms: RecordingSmsSender, clock: FrozenClock
    ) -> None:
        owner = await sign_up(services, sms, "+79990000001", clock)
        for i in range(5):
            await invite(services, sms, owner, f"+7{900 + i}1234567", clock)
        clock.advance(hours=1)
        late = await invite(services, sms, owner, "+79101234567", clock)
        assert late.referral_status == ReferralStatus.JOINED


class TestSamePrefix:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return on(FRAUD_SAME_PREFIX_MIN=5, FRAUD_SAME_PREFIX_SHARE=0.5)

    async def test_half_of_at_least_five_from_one_prefix_is_flagged(
        self, services: Services, sms: RecordingSmsSender, clock: FrozenClock
    ) -> None:
        owner = await sign_up(services, sms, "+79000000001", clock)
        # Four from other blocks, then from one block: the 5th referral makes 1 of 5 (no),
        # the 6th 2 of 6 (no), the 7th 3 of 7 (no), the 8th 4 of 8 = half (yes).
        for i in range(4):
            await invite(services, sms, owner, f"+7{910 + i}0000000", clock)
        same = [await invite(services, sms, owner, f"+7999123000{i}", clock) for i in range(4)]
        assert [s.referral_status for s in same] == [ReferralStatus.JOINED] * 3 + [
            ReferralStatus.FLAGGED
        ]
        assert same[3].referral_signals == ("same_prefix",)

    async def test_fewer_than_five_never_trip_it(
        self, services: Services, sms: RecordingSmsSender, clock: FrozenClock
    ) -> None:
        owner = await sign_up(services, sms, "+79000000001", clock)
        same = [await invite(services, sms, owner, f"+7999123000{i}", clock) for i in range(4)]
        assert {s.referral_status for s in same} == {ReferralStatus.JOINED}


class TestFastQualify:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return on(FRAUD_FAST_QUALIFY_SECONDS=60)

    @pytest.mark.parametrize(("after", "flagged"), [(59, True), (60, False)])
    async def test_qualifying_within_a_minute_of_joining_is_flagged(
        self,
        services: Services,
        sms: RecordingSmsSender,
        clock: FrozenClock,
        after: int,
        flagged: bool,
    ) -> None:
        owner = await sign_up(services, sms, "+79990000001", clock)
        friend = await invite(services, sms, owner, "+79990000002", clock)
        clock.advance(after)
        outcome = await services.program.record_event(
            event_id="o1", type="purchase", user=UserRef(id=friend.id), amount="10"
        )
        expected = ReferralStatus.FLAGGED if flagged else ReferralStatus.QUALIFIED
        assert outcome.referral_status == expected
        [reward] = [r for r in outcome.rewards if r.user_id == owner.id]
        if flagged:
            # Held for review: pending with no date until someone approves it.
            assert reward.status == RewardStatus.PENDING and reward.available_at is None
            user = await get_user(services, friend.id)
            assert user.referral_signals == ("fast_qualify",) and user.qualified_at is not None


class TestSharedClient:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return on(FRAUD_SHARED_CLIENT=True)

    @pytest.mark.parametrize(("client", "flagged"), [("ip:10.0.0.1", True), ("ip:10.0.0.2", False)])
    async def test_a_referee_on_the_referrers_address_is_flagged(
        self,
        services: Services,
        sms: RecordingSmsSender,
        clock: FrozenClock,
        client: str,
        flagged: bool,
    ) -> None:
        await services.auth.request_code("+79990000001", "ip:10.0.0.1")
        owner = (
            await services.auth.login("+79990000001", sms.last_code(), client="ip:10.0.0.1")
        ).user
        clock.advance(61)
        await services.auth.request_code("+79990000002", client)
        result = await services.auth.login(
            "+79990000002", sms.last_code(), invite_code=owner.invite_code, client=client
        )
        status = ReferralStatus.FLAGGED if flagged else ReferralStatus.JOINED
        assert result.user.referral_status == status


class TestReview:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return on(FRAUD_FAST_QUALIFY_SECONDS=60)

    async def flagged(
        self, services: Services, sms: RecordingSmsSender, clock: FrozenClock
    ) -> tuple[User, User]:
        owner = await sign_up(services, sms, "+79990000001", clock)
        friend = await invite(services, sms, owner, "+79990000002", clock)
        await services.program.record_event(
            event_id="o1", type="purchase", user=UserRef(id=friend.id), amount="10"
        )
        return owner, friend

    async def test_the_queue_lists_flagged_referrals_with_their_signals(
        self, services: Services, sms: RecordingSmsSender, clock: FrozenClock
    ) -> None:
        owner, friend = await self.flagged(services, sms, clock)
        page, cursor = await services.admin.referrals("flagged")
        assert [(r.referee.id, r.referrer.id, r.signals) for r in page] == [
            (friend.id, owner.id, ("fast_qualify",))
        ]
        assert cursor is None

    async def test_approval_releases_the_held_rewards_on_the_holds_schedule(
        self, services: Services, sms: RecordingSmsSender, clock: FrozenClock
    ) -> None:
        owner, friend = await self.flagged(services, sms, clock)
        assert (await services.ledger.balance(owner.id)).pending == D("110.00")
        clock.advance(hours=2)
        approved = await services.admin.approve(ADMIN, friend.id, "checked by phone")
        assert approved.referral_status == ReferralStatus.QUALIFIED
        balance = await services.ledger.balance(owner.id)
        assert balance.next_available_at is not None  # scheduled now, a day after creation
        clock.advance(days=1)
        assert (await services.ledger.balance(owner.id)).available == D("110.00")
        assert (await get_user(services, owner.id)).qualified_count == 1
        with pytest.raises(ReferralNotFlagged):
            await services.admin.approve(ADMIN, friend.id, None)

    async def test_rejection_reverses_and_needs_a_reason(
        self, services: Services, sms: RecordingSmsSender, clock: FrozenClock
    ) -> None:
        owner, friend = await self.flagged(services, sms, clock)
        with pytest.raises(InvalidInput, match="reason"):
            await services.admin.reject(ADMIN, friend.id, "  ")
        await services.admin.reject(ADMIN, friend.id, "same device")
        balance = await services.ledger.balance(owner.id)
        assert (balance.available, balance.pending) == (D("0.00"), D("0.00"))
        records, _ = await services.admin.audit()
        assert [(r.actor, r.action, r.subject, r.reason) for r in records] == [
            (ADMIN, "referral.reject", f"user:{friend.id}", "same device")
        ]


class TestByHand:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return on(REWARD_HOLD_SECONDS="0")

    async def test_attach_follows_the_rules_and_is_audited(
        self, services: Services, sms: RecordingSmsSender, clock: FrozenClock
    ) -> None:
        a = await sign_up(services, sms, "+79990000001", clock)
        b = await invite(services, sms, a, "+79990000002", clock)
        with pytest.raises(InviteCycle):
            await services.admin.attach(ADMIN, a.id, b.invite_code, "asked by support")
        c = await sign_up(services, sms, "+79990000003", clock)
        attached = await services.admin.attach(ADMIN, c.id, a.invite_code, "did not count")
        assert attached.referrer_id == a.id
        assert (await get_user(services, a.id)).referral_count == 2
        records, _ = await services.admin.audit()
        assert records[0].action == "referral.attach" and records[0].reason == "did not count"

    async def test_detach_takes_back_counts_and_rewards(
        self, services: Services, sms: RecordingSmsSender, clock: FrozenClock
    ) -> None:
        a = await sign_up(services, sms, "+79990000001", clock)
        b = await invite(services, sms, a, "+79990000002", clock)
        await services.program.record_event(
            event_id="o1", type="purchase", user=UserRef(id=b.id), amount="10"
        )
        assert (await services.ledger.balance(a.id)).available == D("110.00")
        detached = await services.admin.detach(ADMIN, b.id, "wrong referrer")
        assert detached.referrer_id is None and detached.referral_status is None
        owner = await get_user(services, a.id)
        assert (owner.referral_count, owner.qualified_count) == (0, 0)
        assert (await services.ledger.balance(a.id)).available == D("0.00")
        page = await services.ledger.rewards(a.id)
        assert sorted(str(e.amount) for e in page.items) == ["-10.00", "-100.00", "10.00", "100.00"]
        board = await services.leaderboard.leaderboard(a.id, "all", "joined")
        assert board.entries == ()
        with pytest.raises(ReferralNotFound):
            await services.admin.detach(ADMIN, b.id, "again")
