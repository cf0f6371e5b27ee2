"""Races with real parallel transactions: each call below runs on its own connection."""

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.domain.entities import User
from core.domain.errors import (
    CodeInvalid,
    DomainError,
    InviteAlreadyActivated,
    InviteCycle,
    RateLimited,
)
from core.services import Services
from db.models import UserRow
from db.uow import SqlUnitOfWorkFactory
from tests.fakes.clock import FrozenClock
from tests.fakes.sms import RecordingSmsSender
from tests.services.helpers import get_user, sign_up

PHONE = "+79991234567"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"PREFIX_NUMBERS_PER_HOUR": 1000}


def outcomes(results: list[Any]) -> tuple[list[Any], list[BaseException]]:
    wins = [r for r in results if not isinstance(r, BaseException)]
    errors = [r for r in results if isinstance(r, BaseException)]
    unexpected = [e for e in errors if not isinstance(e, DomainError)]
    assert not unexpected, unexpected
    return wins, errors


async def count_users(engine: AsyncEngine, phone: str | None = None) -> int:
    stmt = select(func.count()).select_from(UserRow)
    if phone:
        stmt = stmt.where(UserRow.phone == phone)
    async with engine.connect() as conn:
        return int((await conn.execute(stmt)).scalar_one())


async def test_one_code_used_by_20_concurrent_logins_logs_in_once(
    services: Services, sms: RecordingSmsSender, engine: AsyncEngine
) -> None:
    await services.auth.request_code(PHONE, "ip:1")
    code = sms.last_code()
    results = await asyncio.gather(
        *(services.auth.login(PHONE, code) for _ in range(20)), return_exceptions=True
    )
    wins, errors = outcomes(results)
    assert len(wins) == 1 and wins[0].created
    assert len(errors) == 19 and all(isinstance(e, CodeInvalid) for e in errors)
    assert await count_users(engine, PHONE) == 1


async def test_20_concurrent_account_creations_for_one_phone_make_one_account(
    engine: AsyncEngine, clock: FrozenClock
) -> None:
    uow = SqlUnitOfWorkFactory(engine)

    async def create(i: int) -> User | None:
        async with uow() as tx:
            return await tx.users.create_if_absent(
                phone=PHONE,
                invite_code=f"ABC{i:03d}",
                now=clock.now(),
                first_name=None,
                last_name=None,
                language=None,
            )

    results = await asyncio.gather(*(create(i) for i in range(20)))
    assert sum(user is not None for user in results) == 1
    assert await count_users(engine, PHONE) == 1


async def test_concurrent_code_requests_for_one_phone_send_one_sms(
    services: Services, sms: RecordingSmsSender
) -> None:
    results = await asyncio.gather(
        *(services.auth.request_code(PHONE, f"ip:{i}") for i in range(10)), return_exceptions=True
    )
    wins, errors = outcomes(results)
    assert len(wins) == 1 and len(sms.sent) == 1
    assert all(isinstance(e, RateLimited) for e in errors)


@pytest.fixture
async def crowd(services: Services, sms: RecordingSmsSender) -> list[User]:
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(sign_up(services, sms, f"+7999100{i:04d}")) for i in range(100)]
    return sorted((t.result() for t in tasks), key=lambda u: u.id)


async def test_one_user_activating_10_codes_at_once_activates_one(
    services: Services, crowd: list[User]
) -> None:
    user, owners = crowd[0], crowd[1:11]
    results = await asyncio.gather(
        *(services.referrals.activate_invite(user.id, o.invite_code) for o in owners),
        return_exceptions=True,
    )
    wins, errors = outcomes(results)
    assert len(wins) == 1
    assert all(isinstance(e, InviteAlreadyActivated) for e in errors)
    referrer_id = (await get_user(services, user.id)).referrer_id
    assert referrer_id == wins[0].referrer.id
    counts = [(await get_user(services, o.id)).referral_count for o in owners]
    assert sorted(counts) == [0] * 9 + [1]


async def test_50_crossed_pairs_at_once_never_make_a_cycle(
    services: Services, crowd: list[User], engine: AsyncEngine
) -> None:
    pairs = list(zip(crowd[0::2], crowd[1::2], strict=True))
    calls = []
    for a, b in pairs:
        calls.append(services.referrals.activate_invite(a.id, b.invite_code))
        calls.append(services.referrals.activate_invite(b.id, a.invite_code))
    results = await asyncio.gather(*calls, return_exceptions=True)
    wins, errors = outcomes(results)
    assert len(wins) == 50
    assert all(isinstance(e, InviteCycle) for e in errors)
    await assert_acyclic(engine)


async def test_a_ring_closed_from_every_side_at_once_stays_open(
    services: Services, crowd: list[User], engine: AsyncEngine
) -> None:
    ring = crowd[:12]
    calls = [
        services.referrals.activate_invite(ring[i].id, ring[(i + 1) % len(ring)].invite_code)
        for i in range(len(ring))
    ]
    results = await asyncio.gather(*calls, return_exceptions=True)
    wins, errors = outcomes(results)
    assert len(wins) == len(ring) - 1 and len(errors) == 1
    await assert_acyclic(engine)


async def assert_acyclic(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        parent = dict((await conn.execute(select(UserRow.id, UserRow.referrer_id))).all())
    for start in parent:
        seen = {start}
        node = parent[start]
        while node is not None:
            assert node not in seen, f"cycle through user {node}"
            seen.add(node)
            node = parent[node]
