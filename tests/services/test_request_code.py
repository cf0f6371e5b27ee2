"""Requesting a one-time code: what is sent, what is stored, and every cap."""

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.domain.errors import (
    InvalidPhone,
    PhoneNotAllowed,
    RateLimited,
    SmsDailyCapReached,
    SmsDeliveryFailed,
)
from core.domain.otp import derive_otp_key, hash_otp
from core.services import Services
from db.models import OtpChallengeRow
from tests.conftest import TEST_SECRET
from tests.fakes.clock import FrozenClock
from tests.fakes.sms import RecordingSmsSender

PHONE = "+79991234567"


async def stored_challenges(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as conn:
        return list(await conn.execute(select(OtpChallengeRow.__table__)))


async def test_code_is_sent_to_the_normalised_number(
    services: Services, sms: RecordingSmsSender
) -> None:
    sent = await services.auth.request_code("8 (999) 123-45-67", "ip:1.1.1.1")
    assert sent.phone == PHONE
    assert sent.expires_in == 300 and sent.resend_after == 60
    assert len(sms.sent) == 1
    phone, text = sms.sent[0]
    assert phone == PHONE
    assert text.startswith("Your code: ") and len(sms.last_code()) == 4


async def test_message_follows_the_language(services: Services, sms: RecordingSmsSender) -> None:
    await services.auth.request_code(PHONE, "tg:1", language="ru")
    assert sms.sent[0][1].startswith("Ваш код: ")


async def test_only_a_hash_of_the_code_is_stored(
    services: Services, sms: RecordingSmsSender, engine: AsyncEngine
) -> None:
    await services.auth.request_code(PHONE, "ip:1.1.1.1")
    code = sms.last_code()
    [row] = await stored_challenges(engine)
    # The stored value is the keyed hash (HMAC with a key derived from SECRET_KEY), and no
    # column holds the code itself.
    assert row.code_hash == hash_otp(derive_otp_key(TEST_SECRET), PHONE, code)
    assert code not in {str(value) for value in row}
    assert row.phone == PHONE and row.attempts == 0 and row.used_at is None


async def test_invalid_and_foreign_numbers_send_nothing(
    services: Services, sms: RecordingSmsSender, engine: AsyncEngine
) -> None:
    with pytest.raises(InvalidPhone):
        await services.auth.request_code("12345", "ip:1.1.1.1")
    with pytest.raises(PhoneNotAllowed):
        await services.auth.request_code("+12025550123", "ip:1.1.1.1")
    assert sms.sent == [] and await stored_challenges(engine) == []


async def test_second_request_within_cooldown_says_how_long_to_wait(
    services: Services, clock: FrozenClock
) -> None:
    await services.auth.request_code(PHONE, "ip:1.1.1.1")
    clock.advance(20)
    with pytest.raises(RateLimited) as err:
        await services.auth.request_code(PHONE, "ip:1.1.1.1")
    assert err.value.retry_after == 40
    clock.advance(40)
    await services.auth.request_code(PHONE, "ip:1.1.1.1")


async def test_hourly_cap_per_phone(services: Services, clock: FrozenClock) -> None:
    for i in range(5):
        await services.auth.request_code(PHONE, f"ip:10.0.0.{i}")
        clock.advance(61)
    with pytest.raises(RateLimited) as err:
        await services.auth.request_code(PHONE, "ip:10.0.0.9")
    # The oldest of the five leaves the hour window 3600 - 5 * 61 seconds from now.
    assert err.value.retry_after == 3600 - 5 * 61
    clock.advance(err.value.retry_after)
    await services.auth.request_code(PHONE, "ip:10.0.0.9")


async def test_daily_cap_per_phone(services: Services, clock: FrozenClock) -> None:
    for i in range(10):
        await services.auth.request_code(PHONE, f"ip:10.0.0.{i}")
        clock.advance(seconds=20 * 60)  # three an hour: under the hourly cap
    with pytest.raises(RateLimited, match="today") as err:
        await services.auth.request_code(PHONE, "ip:10.0.1.1")
    assert err.value.retry_after == 86400 - 10 * 20 * 60


async def test_failed_send_leaves_no_code_and_no_cooldown(
    services: Services, sms: RecordingSmsSender, engine: AsyncEngine
) -> None:
    sms.fail = True
    with pytest.raises(SmsDeliveryFailed):
        await services.auth.request_code(PHONE, "ip:1.1.1.1")
    assert await stored_challenges(engine) == []
    sms.fail = False
    await services.auth.request_code(PHONE, "ip:1.1.1.1")
    assert len(sms.sent) == 1


async def test_new_code_makes_the_old_one_dead(
    services: Services, sms: RecordingSmsSender, clock: FrozenClock
) -> None:
    await services.auth.request_code(PHONE, "ip:1.1.1.1")
    first = sms.last_code()
    clock.advance(61)
    await services.auth.request_code(PHONE, "ip:1.1.1.1")
    second = sms.last_code()
    if first != second:
        from core.domain.errors import CodeInvalid

        with pytest.raises(CodeInvalid):
            await services.auth.login(PHONE, first)
    result = await services.auth.login(PHONE, second)
    assert result.user.phone == PHONE


class TestPumpingDefences:
    async def test_client_cap_counts_requests_across_numbers(self, services: Services) -> None:
        for i in range(10):
            await services.auth.request_code(f"+7999123{i:04d}", "ip:6.6.6.6")
        with pytest.raises(RateLimited) as err:
            await services.auth.request_code("+79991239999", "ip:6.6.6.6")
        assert err.value.retry_after == 3600
        await services.auth.request_code("+79991239999", "ip:7.7.7.7")

    async def test_prefix_cap_counts_distinct_numbers(
        self, services: Services, clock: FrozenClock
    ) -> None:
        for i in range(20):
            await services.auth.request_code(f"+7999123{i:04d}", f"ip:10.0.0.{i}")
            clock.advance(10)
        with pytest.raises(RateLimited) as err:
            await services.auth.request_code("+79991239999", "ip:10.0.1.1")
        assert err.value.retry_after == 3600 - 20 * 10
        # A number already seen under the prefix may still get its next code,
        clock.advance(60)
        await services.auth.request_code("+79991230000", "ip:10.0.1.2")
        # and another prefix is not affected.
        await services.auth.request_code("+79881239999", "ip:10.0.1.3")


class TestGlobalCap:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"SMS_GLOBAL_DAILY_CAP": 3}

    async def test_past_the_daily_budget_requests_are_refused_and_logged_once(
        self, services: Services, clock: FrozenClock, caplog: pytest.LogCaptureFixture
    ) -> None:
        for i in range(3):
            await services.auth.request_code(f"+7999{i}234567", f"ip:10.0.0.{i}")
        for i in range(3):
            clock.advance(5)
            with pytest.raises(SmsDailyCapReached):
                await services.auth.request_code(f"+7988{i}234567", f"ip:10.0.1.{i}")
        assert sum("global SMS cap reached" in r.getMessage() for r in caplog.records) == 1
        clock.advance(days=1)
        await services.auth.request_code("+79770234567", "ip:10.0.2.1")


class TestConversionWatch:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {
            "CONVERSION_WATCH_MIN_SENT": 5,
            "CLIENT_CODE_REQUESTS_PER_HOUR": 1000,
            "CONVERSION_WATCH_INTERVAL_SECONDS": 1,
        }

    async def test_many_unused_codes_log_the_worst_prefixes(
        self, services: Services, clock: FrozenClock, caplog: pytest.LogCaptureFixture
    ) -> None:
        for i in range(7):
            await services.auth.request_code(f"+7999555{i:04d}", "ip:1.1.1.1")
            clock.advance(2)
        warnings = [
            r.getMessage() for r in caplog.records if "low code conversion" in r.getMessage()
        ]
        assert warnings
        assert "+7999555 (0/" in warnings[-1]
