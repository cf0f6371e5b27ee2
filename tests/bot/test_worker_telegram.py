"""The worker's Telegram messages against the fake Bot API, with the real aiogram Bot.

Telegram down, then back: the message arrives. A 429 delays only that chat. A user who
blocked the bot is marked and not tried again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.app import create_bot
from bot.notifier import TelegramNotifier
from core.domain.entities import User
from core.services import Services, TelegramProfile
from core.settings import Settings
from tests.fakes.clock import FrozenClock
from tests.fakes.notifier import ForwardingSender
from tests.fakes.sms import RecordingSmsSender
from tests.fakes.telegram_server import FakeTelegram, FakeUser


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as running:
        yield running


@pytest.fixture
def settings_overrides(fake: FakeTelegram) -> dict[str, Any]:
    return {
        "BOT_TOKEN": fake.token,
        "TELEGRAM_API_URL": fake.base_url,
        "TELEGRAM_CHAT_INTERVAL_SECONDS": 0,
    }


@pytest.fixture
async def sender(settings: Settings, telegram: ForwardingSender) -> AsyncIterator[TelegramNotifier]:
    bot = create_bot(settings, wait_out_flood=False)
    telegram.target = TelegramNotifier(bot)
    yield telegram.target
    await bot.session.close()


async def in_telegram(
    services: Services, sms: RecordingSmsSender, clock: FrozenClock, fake_user: FakeUser
) -> User:
    """A user who logged in from this Telegram account."""
    phone = f"+7999{fake_user.id % 10**7:07d}"
    await services.auth.request_code(phone, f"tg:{fake_user.id}")
    result = await services.auth.login(
        phone, sms.last_code(phone), telegram=TelegramProfile(fake_user.id, fake_user.first_name)
    )
    clock.advance(1)
    return result.user


async def rounds(services: Services, n: int = 1) -> None:
    for _ in range(n):
        await services.delivery.dispatch()
        await services.delivery.send_telegram()


async def invite(
    services: Services, sms: RecordingSmsSender, clock: FrozenClock, owner: User, i: int
) -> None:
    friend = f"+79995{i:06d}"
    await services.auth.request_code(friend, f"ip:{i}")
    await services.auth.login(friend, sms.last_code(friend), invite_code=owner.invite_code)
    clock.advance(1)


async def test_the_referrer_hears_of_a_new_referral_in_their_chat(
    services: Services,
    sms: RecordingSmsSender,
    clock: FrozenClock,
    fake: FakeTelegram,
    sender: TelegramNotifier,
) -> None:
    boris = await in_telegram(services, sms, clock, fake.user("Boris"))
    await invite(services, sms, clock, boris, 1)
    await rounds(services)
    [note] = fake.sent_messages(boris.telegram_id or 0)
    assert note.text == "🎉 +7999***0001 joined by your invite!\nYou now have 1 referral."


async def test_messages_wait_while_telegram_is_down_and_arrive_when_it_is_back(
    services: Services,
    sms: RecordingSmsSender,
    clock: FrozenClock,
    fake: FakeTelegram,
    sender: TelegramNotifier,
) -> None:
    boris = await in_telegram(services, sms, clock, fake.user("Boris"))
    await fake.stop()  # Telegram unreachable: connections refused
    await invite(services, sms, clock, boris, 1)
    await rounds(services, 3)
    await fake.start()
    await rounds(services)
    assert fake.sent_messages(boris.telegram_id or 0) == []  # the retry is not due yet
    clock.advance(minutes=5)
    await rounds(services)
    assert len(fake.sent_messages(boris.telegram_id or 0)) == 1
    clock.advance(hours=3)
    await rounds(services)
    assert len(fake.sent_messages(boris.telegram_id or 0)) == 1  # and only once


async def test_a_flood_wait_delays_only_that_chat(
    services: Services,
    sms: RecordingSmsSender,
    clock: FrozenClock,
    fake: FakeTelegram,
    sender: TelegramNotifier,
) -> None:
    boris = await in_telegram(services, sms, clock, fake.user("Boris"))
    vera = await in_telegram(services, sms, clock, fake.user("Vera"))
    await invite(services, sms, clock, boris, 1)
    await invite(services, sms, clock, vera, 2)
    fake.fail_next("sendMessage", error_code=429, retry_after=30)
    await rounds(services)
    counts = {u.id: len(fake.sent_messages(u.telegram_id or 0)) for u in (boris, vera)}
    assert sorted(counts.values()) == [0, 1]  # one chat was told to wait, the other was not
    waiting = next(u for u in (boris, vera) if counts[u.id] == 0)
    clock.advance(20)
    await rounds(services)
    assert fake.sent_messages(waiting.telegram_id or 0) == []
    clock.advance(15)
    await rounds(services)
    assert len(fake.sent_messages(waiting.telegram_id or 0)) == 1


async def test_a_user_who_blocked_the_bot_is_marked_and_not_tried_again(
    services: Services,
    sms: RecordingSmsSender,
    clock: FrozenClock,
    fake: FakeTelegram,
    sender: TelegramNotifier,
) -> None:
    someone = fake.user("Boris")
    boris = await in_telegram(services, sms, clock, someone)
    fake.block_bot(someone)
    await invite(services, sms, clock, boris, 1)
    await rounds(services)
    tries = len(fake.calls_to("sendMessage"))
    assert tries == 1
    await invite(services, sms, clock, boris, 2)
    clock.advance(hours=3)
    await rounds(services, 3)
    assert len(fake.calls_to("sendMessage")) == tries
