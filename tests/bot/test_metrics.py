"""Every update the bot handles is counted for /metrics."""

from __future__ import annotations

from core.services import Services
from tests.bot.harness import Harness


async def test_handled_updates_are_counted_by_type_and_result(
    tg: Harness, services: Services
) -> None:
    await tg.person(2002).send("/help")
    body, _ = services.metrics.render()
    assert b'referral_bot_updates_total{result="ok",type="message"} 1.0' in body
