"""The referral program: statuses, qualifying events, reward rules and the ledger."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.domain.entities import User, UserRef
from core.domain.errors import (
    EventConflict,
    InvalidAmount,
    InvalidInput,
    InviteNotFound,
    ReferralAlreadyRejected,
    ReferralNotFlagged,
    UserNotFound,
)
from core.domain.rewards import ReferralStatus, RewardReason, RewardStatus
from core.services import Services
from db.models import (
    LedgerEntryRow,
    OutboxEventRow,
    ReferralStatusChangeRow,
    RewardBalanceRow,
    RuleSetRow,
)
from tests.fakes.clock import FrozenClock
from tests.fakes.sms import RecordingSmsSender
from tests.services.helpers import get_user, sign_up

D = Decimal


async def rows(engine: AsyncEngine, table: Any) -> list[Any]:
    async with engine.connect() as conn:
        return list(await conn.execute(select(table.__table__)))


async def outbox_types(engine: AsyncEngine) -> list[str]:
    return [r.type for r in sorted(await rows(engine, OutboxEventRow), key=lambda r: r.id)]


@pytest.fixture
async def people(services: Services, sms: RecordingSmsSender, clock: FrozenClock) -> list[User]:
    return [await sign_up(services, sms, f"+7999000000{i}", clock) for i in range(5)]


async def refer(services: Services, referee: User, referrer: User) -> User:
    return (await services.referrals.activate_invite(referee.id, referrer.invite_code)).user


async def purchase(services: Services, user: User, amount: str, event_id: str | None = None) -> Any:
    return await services.program.record_event(
        event_id=event_id or f"order-{user.id}-{amount}",
        type="purchase",
        user=UserRef(id=user.id),
        amount=amount,
    )


def summary(outcome: Any) -> list[tuple[int, str, str, str]]:
    return sorted(
        (r.user_id, str(r.amount), r.reason.value, r.status.value) for r in outcome.rewards
    )


class TestStatuses:
    async def test_an_activated_invite_is_joined_with_its_history(
        self, services: Services, people: list[User], engine: AsyncEngine
    ) -> None:
        a, b = people[:2]
        referee = await refer(services, b, a)
        assert referee.referral_status == ReferralStatus.JOINED
        [change] = await rows(engine, ReferralStatusChangeRow)
        assert (change.referee_id, change.referrer_id, change.status) == (b.id, a.id, "joined")
        assert change.reason == "invite activated"
        assert "referral.joined" in await outbox_types(engine)

    async def test_the_qualifying_event_qualifies_once(
        self, services: Services, people: list[User], clock: FrozenClock
    ) -> None:
        a, b = people[:2]
        await refer(services, b, a)
        clock.advance(60)
        outcome = await purchase(services, b, "10.00")
        assert outcome.referral_status == ReferralStatus.QUALIFIED and outcome.created
        user = await get_user(services, b.id)
        assert user.referral_status == ReferralStatus.QUALIFIED
        assert user.qualified_at == clock.now()
        owner = await get_user(services, a.id)
        assert (owner.qualified_count, owner.joined_count) == (1, 0)
        page = await services.referrals.referrals(a.id)
        assert [(r.status, r.qualified_at) for r in page.items] == [
            (ReferralStatus.QUALIFIED, clock.now())
        ]

    async def test_events_of_another_type_or_of_users_without_referrer_earn_nothing(
        self, services: Services, people: list[User]
    ) -> None:
        a, b = people[:2]
        lonely = await services.program.record_event(
            event_id="e1", type="purchase", user=UserRef(id=a.id), amount="5.00"
        )
        assert lonely.referral_status is None and lonely.rewards == ()
        await refer(services, b, a)
        other = await services.program.record_event(
            event_id="e2", type="signup", user=UserRef(id=b.id), amount="5.00"
        )
        assert other.referral_status == ReferralStatus.JOINED and other.rewards == ()


class TestRules:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {
            "REWARD_REFERRER_ON_JOIN": "5",
            "REWARD_REFEREE_ON_JOIN": "2.50",
            "REWARD_REFERRER_FIXED": "100",
            "REWARD_REFERRER_PERCENT": "10",
            "REWARD_REFEREE_FIXED": "50",
            "REWARD_REFEREE_PERCENT": "1.5",
            "REWARD_LEVEL2_PERCENT": "3",
        }

    async def test_join_rewards_go_to_both_sides(
        self, services: Services, people: list[User]
    ) -> None:
        a, b = people[:2]
        await refer(services, b, a)
        assert (await services.ledger.balance(a.id)).available == D("5.00")
        assert (await services.ledger.balance(b.id)).available == D("2.50")
        page = await services.ledger.rewards(b.id)
        assert [(e.reason, e.amount, e.status) for e in page.items] == [
            (RewardReason.REFERRAL_JOIN, D("2.50"), RewardStatus.AVAILABLE)
        ]

    async def test_qualifying_pays_fixed_plus_percent_to_both_and_level_two(
        self, services: Services, people: list[User]
    ) -> None:
        a, b, c = people[:3]
        await refer(services, b, a)  # a invited b
        await refer(services, c, b)  # b invited c: a is c's level two
        outcome = await purchase(services, c, "990.00")
        assert summary(outcome) == sorted(
            [
                (b.id, "199.00", "referral_qualified", "available"),  # 100 + 10%
                (c.id, "64.85", "referral_qualified", "available"),  # 50 + 1.5% (14.85)
                (a.id, "29.70", "level2", "available"),  # 3%
            ]
        )
        # b got 2.50 for joining through a, 5 when c joined, 199 when c qualified.
        assert (await services.ledger.balance(b.id)).available == D("206.50")

    async def test_a_later_event_earns_nothing_without_every_event(
        self, services: Services, people: list[User]
    ) -> None:
        a, b = people[:2]
        await refer(services, b, a)
        await purchase(services, b, "100.00", "first")
        second = await purchase(services, b, "100.00", "second")
        assert second.rewards == () and second.referral_status == ReferralStatus.QUALIFIED

    async def test_the_rules_in_force_are_stored_with_the_rewards(
        self, services: Services, people: list[User], engine: AsyncEngine
    ) -> None:
        a, b = people[:2]
        await refer(services, b, a)
        [rule_set] = await rows(engine, RuleSetRow)
        rules = json.loads(rule_set.rules)
        assert rules["referrer_fixed"] == "100.00" and rules["level2_percent"] == "3.00"
        entries = await rows(engine, LedgerEntryRow)
        assert entries and {e.rule_set_id for e in entries} == {rule_set.id}


class TestEveryEvent:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {
            "REWARD_REFERRER_FIXED": "100",
            "REWARD_REFERRER_PERCENT": "10",
            "REWARD_REFEREE_PERCENT": "5",
            "REWARD_EVERY_EVENT": "true",
        }

    async def test_later_events_earn_the_percents_only(
        self, services: Services, people: list[User]
    ) -> None:
        a, b = people[:2]
        await refer(services, b, a)
        await purchase(services, b, "100.00", "first")
        second = await purchase(services, b, "200.00", "second")
        assert summary(second) == sorted(
            [
                (a.id, "20.00", "repeat_event", "available"),
                (b.id, "10.00", "repeat_event", "available"),
            ]
        )
        assert (await services.ledger.balance(a.id)).available == D("130.00")


class TestDailyCap:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {
            "REWARD_REFERRER_FIXED": "40",
            "REWARD_REFEREE_FIXED": "40",
            "REWARD_REFERRER_DAILY_CAP": "100",
        }

    async def test_past_the_cap_the_rest_is_not_credited_and_the_ledger_says_why(
        self,
        services: Services,
        people: list[User],
        clock: FrozenClock,
        sms: RecordingSmsSender,
    ) -> None:
        a, *friends = people
        for friend in friends:
            await refer(services, friend, a)
        amounts = []
        for friend in friends:
            outcome = await purchase(services, friend, "1.00")
            [mine] = [r for r in outcome.rewards if r.user_id == a.id]
            amounts.append((mine.amount, mine.note))
        assert [amount for amount, _ in amounts] == [D("40.00"), D("40.00"), D("20.00"), D("0.00")]
        assert amounts[0][1] is None
        assert amounts[2][1] is not None and "daily cap: 20.00 of 40.00 credited" in amounts[2][1]
        assert (await services.ledger.balance(a.id)).available == D("100.00")
        # The cap is the referrer's: the referees got their whole 40 each.
        assert (await services.ledger.balance(friends[3].id)).available == D("40.00")
        # A rolling day after the first credits the referrer earns again.
        clock.advance(days=1, seconds=1)
        late = await sign_up(services, sms, "+79990000099", clock)
        await refer(services, late, a)
        outcome = await purchase(services, late, "1.00")
        assert [r.amount for r in outcome.rewards if r.user_id == a.id] == [D("40.00")]


class TestHold:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {
            "REWARD_REFERRER_FIXED": "100",
            "REWARD_REFEREE_FIXED": "50",
            "REWARD_HOLD_SECONDS": str(14 * 86400),
        }

    async def test_rewards_are_pending_during_the_hold_then_available(
        self, services: Services, people: list[User], clock: FrozenClock, engine: AsyncEngine
    ) -> None:
        a, b = people[:2]
        await refer(services, b, a)
        outcome = await purchase(services, b, "10.00")
        assert {r.status for r in outcome.rewards} == {RewardStatus.PENDING}
        balance = await services.ledger.balance(a.id)
        assert (balance.available, balance.pending) == (D("0.00"), D("100.00"))
        assert balance.next_available_at == clock.now() + timedelta(days=14)
        clock.advance(days=14)
        # Read lazily before the job runs: already available.
        balance = await services.ledger.balance(a.id)
        assert (balance.available, balance.pending) == (D("100.00"), D("0.00"))
        assert (await services.ledger.rewards(a.id)).items[0].status == RewardStatus.AVAILABLE
        released = await services.ledger.release_due()
        assert sorted(e.user_id for e in released) == sorted([a.id, b.id])
        assert await services.ledger.release_due() == []
        stored = {r.user_id: (r.available, r.pending) for r in await rows(engine, RewardBalanceRow)}
        assert stored[a.id] == (D("100.00"), D("0.00")) and stored[b.id] == (D("50.00"), D("0"))
        assert (await outbox_types(engine)).count("reward.available") == 2

    async def test_a_rejection_during_the_hold_reverses_the_pending_rewards(
        self, services: Services, people: list[User], clock: FrozenClock, engine: AsyncEngine
    ) -> None:
        a, b = people[:2]
        await refer(services, b, a)
        await purchase(services, b, "10.00")
        clock.advance(days=3)
        rejected = await services.program.reject(b.id, "self-referral", actor="admin:1")
        assert rejected.referral_status == ReferralStatus.REJECTED
        for user in (a, b):
            balance = await services.ledger.balance(user.id)
            assert (balance.available, balance.pending) == (D("0.00"), D("0.00"))
        clock.advance(days=20)
        assert await services.ledger.release_due() == []
        statuses = {e.status for e in (await services.ledger.rewards(a.id)).items}
        assert statuses == {RewardStatus.REVERSED}
        # A rejected referral earns nothing more.
        later = await purchase(services, b, "10.00", "after-rejection")
        assert later.rewards == () and later.referral_status == ReferralStatus.REJECTED
        with pytest.raises(ReferralAlreadyRejected):
            await services.program.reject(b.id, "again", actor="admin:1")
        with pytest.raises(ReferralNotFlagged):
            await services.program.approve(b.id, None, actor="admin:1")
        owner = await get_user(services, a.id)
        assert (owner.rejected_count, owner.qualified_count) == (1, 0)
        history = [r.status for r in await rows(engine, ReferralStatusChangeRow)]
        assert history == ["joined", "qualified", "rejected"]
        assert "reward.reversed" in await outbox_types(engine)


class TestQualifyOnJoin:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"REWARD_QUALIFYING_EVENT": "", "REWARD_REFERRER_FIXED": "7"}

    async def test_without_a_qualifying_event_a_referral_qualifies_when_it_joins(
        self, services: Services, people: list[User]
    ) -> None:
        a, b = people[:2]
        referee = await refer(services, b, a)
        assert referee.referral_status == ReferralStatus.QUALIFIED
        assert (await services.ledger.balance(a.id)).available == D("7.00")
        outcome = await purchase(services, b, "100.00")
        assert outcome.rewards == ()


class TestEvents:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"REWARD_REFERRER_FIXED": "100", "REWARD_REFERRER_PERCENT": "10"}

    async def test_the_same_event_again_answers_the_same_and_credits_nothing(
        self, services: Services, people: list[User]
    ) -> None:
        a, b = people[:2]
        await refer(services, b, a)
        first = await purchase(services, b, "50.00", "order-1")
        again = await purchase(services, b, "50.00", "order-1")
        assert not again.created and summary(again) == summary(first)
        assert again.referral_status == first.referral_status
        assert (await services.ledger.balance(a.id)).available == D("105.00")

    async def test_the_same_event_id_with_other_content_is_a_conflict(
        self, services: Services, people: list[User]
    ) -> None:
        a, b = people[:2]
        await refer(services, b, a)
        await purchase(services, b, "50.00", "order-1")
        with pytest.raises(EventConflict):
            await purchase(services, b, "51.00", "order-1")

    @pytest.mark.parametrize("amount", ["-1.00", "1.001", "abc", "NaN", "1e30", True, None, 1.5])
    async def test_a_malformed_amount_is_refused_and_records_nothing(
        self, services: Services, people: list[User], engine: AsyncEngine, amount: Any
    ) -> None:
        with pytest.raises(InvalidAmount):
            await services.program.record_event(
                event_id="x", type="purchase", user=UserRef(id=people[0].id), amount=amount
            )
        async with engine.connect() as conn:
            count = (await conn.execute(select(func.count()).select_from(LedgerEntryRow))).scalar()
        assert count == 0

    @pytest.mark.parametrize(
        "ref", [UserRef(id=10**9), UserRef(phone="+79990009999"), UserRef(telegram_id=777)]
    )
    async def test_an_unknown_user_is_not_found(
        self, services: Services, people: list[User], ref: UserRef
    ) -> None:
        with pytest.raises(UserNotFound):
            await services.program.record_event(event_id="x", type="purchase", user=ref, amount="1")

    @pytest.mark.parametrize(
        ("event_id", "kind", "ref"),
        [
            ("", "purchase", UserRef(id=1)),
            ("x" * 129, "purchase", UserRef(id=1)),
            ("ok", "Purchase!", UserRef(id=1)),
            ("ok", "purchase", UserRef(id=1, phone="+79990000000")),
            ("ok", "purchase", UserRef()),
        ],
    )
    async def test_a_malformed_event_is_refused(
        self, services: Services, event_id: str, kind: str, ref: UserRef
    ) -> None:
        with pytest.raises(InvalidInput):
            await services.program.record_event(event_id=event_id, type=kind, user=ref, amount="1")

    async def test_the_user_may_be_named_by_phone_or_telegram_id(
        self, services: Services, people: list[User]
    ) -> None:
        a, b = people[:2]
        await refer(services, b, a)
        outcome = await services.program.record_event(
            event_id="p", type="purchase", user=UserRef(phone="8 999 000-00-01"), amount="1.00"
        )
        assert outcome.user_id == b.id and outcome.referral_status == ReferralStatus.QUALIFIED


class TestConcurrency:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"REWARD_REFERRER_FIXED": "100", "REWARD_REFERRER_PERCENT": "10"}

    async def test_20_copies_of_one_event_at_once_credit_once(
        self, services: Services, people: list[User]
    ) -> None:
        a, b = people[:2]
        await refer(services, b, a)
        outcomes = await asyncio.gather(
            *(purchase(services, b, "50.00", "order-1") for _ in range(20))
        )
        assert sum(o.created for o in outcomes) == 1
        assert all(summary(o) == summary(outcomes[0]) for o in outcomes)
        assert (await services.ledger.balance(a.id)).available == D("105.00")

    async def test_two_events_of_one_referee_at_once_qualify_once(
        self, services: Services, people: list[User]
    ) -> None:
        a, b = people[:2]
        await refer(services, b, a)
        both = await asyncio.gather(
            purchase(services, b, "50.00", "e1"), purchase(services, b, "70.00", "e2")
        )
        assert sorted(len(o.rewards) for o in both) == [0, 1]
        assert (await get_user(services, a.id)).qualified_count == 1

    async def test_the_balance_is_the_sum_of_the_ledger_after_a_burst(
        self, services: Services, people: list[User], engine: AsyncEngine
    ) -> None:
        a, *friends = people
        for friend in friends:
            await refer(services, friend, a)
        await asyncio.gather(
            *(purchase(services, f, f"{10 * (i + 1)}.00") for i, f in enumerate(friends))
        )
        entries = [e for e in await rows(engine, LedgerEntryRow) if e.user_id == a.id]
        total = sum((e.amount for e in entries), D("0.00"))
        assert total == D("400.00") + D("10.00")  # 4 × 100 + 10% of (10+20+30+40)
        assert (await services.ledger.balance(a.id)).available == total


async def test_a_change_that_rolls_back_writes_no_event(
    services: Services, sms: RecordingSmsSender, engine: AsyncEngine
) -> None:
    # The first login writes the new user and its user.created event, then the unknown
    # invite refuses the login: the whole transaction, the event included, is undone.
    await services.auth.request_code("+79995550000", "ip:1")
    with pytest.raises(InviteNotFound):
        await services.auth.login("+79995550000", sms.last_code(), invite_code="ZZZZZZ")
    assert await outbox_types(engine) == []
    await services.auth.login("+79995550000", sms.last_code())
    assert await outbox_types(engine) == ["user.created"]
