"""The limits' arithmetic, without a database or a clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.domain.errors import ResendTooSoon
from core.domain.limits import (
    client_wait,
    lock_seconds,
    low_conversion,
    phone_wait,
    prefix_wait,
    seconds_until,
)
from core.domain.policy import LimitPolicy, OtpPolicy

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
OTP = OtpPolicy(
    length=4,
    ttl_seconds=300,
    max_attempts=5,
    resend_seconds=60,
    sends_per_hour=5,
    sends_per_day=10,
    lock_after_failures=10,
    lock_base_seconds=3600,
    lock_max_seconds=86400,
)
LIMITS = LimitPolicy(
    allowed_prefixes=("+7",),
    client_requests_per_hour=10,
    prefix_digits=7,
    prefix_numbers_per_hour=3,
    global_sends_per_day=5000,
    watch_min_sent=50,
    watch_min_conversion=0.2,
    watch_interval_seconds=60,
)


def ago(*seconds: float) -> list[datetime]:
    return sorted(NOW - timedelta(seconds=s) for s in seconds)


@pytest.mark.parametrize(("delta", "expected"), [(0.2, 1), (1.0, 1), (40.0, 40), (-5.0, 1)])
def test_seconds_until_rounds_up_and_is_at_least_one(delta: float, expected: int) -> None:
    assert seconds_until(NOW + timedelta(seconds=delta), NOW) == expected


def test_no_earlier_sends_allow_a_code() -> None:
    assert phone_wait([], NOW, OTP) is None


def test_the_cooldown_names_the_seconds_left() -> None:
    refused = phone_wait(ago(20), NOW, OTP)
    assert isinstance(refused, ResendTooSoon) and refused.retry_after == 40


def test_the_cooldown_ends_on_the_second() -> None:
    assert phone_wait(ago(60), NOW, OTP) is None


def test_the_hourly_cap_waits_for_the_oldest_send_of_the_hour_to_leave_it() -> None:
    refused = phone_wait(ago(3000, 2000, 1000, 500, 100), NOW, OTP)
    assert refused is not None and "this hour" in refused.message
    assert refused.retry_after == 3600 - 3000


def test_the_daily_cap_counts_a_rolling_day() -> None:
    times = ago(*(80000 - i * 4000 for i in range(10)))  # ten sends, none in the last hour
    refused = phone_wait(times, NOW, OTP)
    assert refused is not None and "today" in refused.message
    assert refused.retry_after == 86400 - 80000


@pytest.mark.parametrize(("count", "refused"), [(9, False), (10, True)])
def test_the_client_cap_boundary(count: int, refused: bool) -> None:
    times = ago(*(3000 - i for i in range(count)))
    assert (client_wait(times, NOW, 10) is not None) is refused


def test_a_number_already_seen_under_its_prefix_may_go_on() -> None:
    firsts = {f"+799912300{i}": NOW - timedelta(seconds=100 * (i + 1)) for i in range(3)}
    assert prefix_wait(firsts, "+7999123000", NOW, LIMITS) is None
    refused = prefix_wait(firsts, "+7999123999", NOW, LIMITS)
    assert refused is not None and refused.retry_after == 3600 - 300


@pytest.mark.parametrize(("locks", "seconds"), [(0, 3600), (1, 7200), (4, 57600), (5, 86400)])
def test_each_lock_doubles_up_to_the_maximum(locks: int, seconds: int) -> None:
    assert lock_seconds(locks, OTP) == seconds


def test_low_conversion_names_the_worst_prefixes_first() -> None:
    rows = [("+7999111", 50, 1), ("+7999222", 10, 8)]
    low = low_conversion(rows, LIMITS)
    assert low is not None
    sent, used, worst = low
    assert (sent, used) == (60, 9) and worst[0][0] == "+7999111"


def test_enough_conversion_or_too_few_codes_is_quiet() -> None:
    assert low_conversion([("+7999111", 60, 30)], LIMITS) is None
    assert low_conversion([("+7999111", 50, 0)], LIMITS) is None
