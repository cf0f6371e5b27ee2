"""With Redis, a dialog started in one bot process is continued by another (webhook workers,
restarts): two Dispatchers over one real Redis share the FSM."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from bot.states import LoginFlow
from core.services import Services
from core.settings import Settings
from tests.bot.harness import Harness
from tests.conftest import REDIS_URL
from tests.fakes.clock import FrozenClock
from tests.fakes.sms import RecordingSmsSender

REDIS = REDIS_URL


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"BOT_THROTTLE_PER_SECOND": 1000, "REDIS_URL": REDIS}


@pytest.fixture
async def two_processes(
    services: Services, settings: Settings, clock: FrozenClock
) -> AsyncIterator[tuple[Harness, Harness]]:
    redis = Redis.from_url(REDIS)
    await redis.flushdb()
    first, second = Harness(services, settings, clock), Harness(services, settings, clock)
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()
        await redis.flushdb()
        await redis.aclose()


async def test_a_login_started_in_one_process_ends_in_another(
    two_processes: tuple[Harness, Harness], sms: RecordingSmsSender, services: Services
) -> None:
    first, second = two_processes
    anna_here, anna_there = first.person(2001), second.person(2001)
    await anna_here.send("/start")
    await anna_here.share_contact("+79991234567")
    assert await anna_there.state() == LoginFlow.code.state  # the other process sees the step
    await anna_there.send(sms.last_code("+79991234567"))
    user = await services.accounts.user_by_telegram(2001)
    assert user is not None and user.phone == "+79991234567"
    assert await anna_here.state() is None
    assert any(user.invite_code in text for text in second.texts())
