"""Bot tests: a real Dispatcher fed with updates, over the real services (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.notifier import TelegramNotifier
from core.services import Services
from core.settings import Settings
from tests.bot.harness import Harness
from tests.fakes.clock import FrozenClock
from tests.fakes.notifier import ForwardingSender


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    # A generous throttle: only the throttle's own tests flood the bot. No BOT_TOKEN, so the
    # services get no notifier of their own: the harness's bot (below) tells referrers.
    return {"BOT_THROTTLE_PER_SECOND": 1000, "TELEGRAM_CHAT_INTERVAL_SECONDS": 0}


@pytest.fixture
async def tg(
    services: Services, settings: Settings, clock: FrozenClock, telegram: ForwardingSender
) -> AsyncIterator[Harness]:
    harness = Harness(services, settings, clock)
    # The worker sends through this bot, so its messages are recorded with the rest.
    telegram.target = TelegramNotifier(harness.bot)
    try:
        yield harness
    finally:
        await harness.close()
