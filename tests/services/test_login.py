"""Logging in with a one-time code: single use, attempts, expiry, locks, first login."""

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.domain.errors import (
    CodeExpired,
    CodeInvalid,
    InvalidCode,
    InvalidInviteCode,
    InviteCycle,
    InviteNotFound,
    InviteOwnCode,
    PhoneLocked,
    RateLimited,
)
from core.domain.invite_code import ALPHABET
from core.services import Services, TelegramProfile
from db.models import UserRow
from tests.fakes.clock import FrozenClock
from tests.fakes.sms import RecordingSmsSender
from tests.services.helpers import sign_up

PHONE = "+79991234567"


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10000:04d}"


async def user_count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(UserRow))).scalar_one())


async def test_first_login_creates_the_user_with_an_invite_code(
    services: Services, sms: RecordingSmsSender
) -> None:
    await services.auth.request_code(PHONE, "ip:1")
    result = await services.auth.login("8 999 123-45-67", sms.last_code())
    assert result.created
    user = result.user
    assert user.phone == PHONE
    assert len(user.invite_code) == 6 and set(user.invite_code) <= set(ALPHABET)
    assert user.referrer_id is None and user.referral_count == 0


async def test_second_login_returns_the_same_user(
    services: Services, sms: RecordingSmsSender, clock: FrozenClock
) -> None:
    first = await sign_up(services, sms, PHONE)
    clock.advance(61)
    await services.auth.request_code(PHONE, "ip:1")
    again = await services.auth.login(PHONE, sms.last_code())
    assert not again.created and again.user.id == first.id
    assert again.user.invite_code == first.invite_code


async def test_a_code_works_once(services: Services, sms: RecordingSmsSender) -> None:
    await services.auth.request_code(PHONE, "ip:1")
    code = sms.last_code()
    await services.auth.login(PHONE, code)
    with pytest.raises(CodeInvalid) as err:
        await services.auth.login(PHONE, code)
    assert err.value.attempts_left == 0


async def test_login_without_a_code_is_refused(services: Services) -> None:
    with pytest.raises(CodeInvalid):
        await services.auth.login(PHONE, "1234")


async def test_malformed_code_is_an_input_error(services: Services) -> None:
    with pytest.raises(InvalidCode):
        await services.auth.login(PHONE, "12a4")


async def test_wrong_code_says_how_many_tries_are_left(
    services: Services, sms: RecordingSmsSender
) -> None:
    await services.auth.request_code(PHONE, "ip:1")
    code = sms.last_code()
    for left in (4, 3, 2, 1, 0):
        with pytest.raises(CodeInvalid) as err:
            await services.auth.login(PHONE, wrong(code))
        assert err.value.attempts_left == left


async def test_after_max_attempts_even_the_right_code_fails(
    services: Services, sms: RecordingSmsSender
) -> None:
    await services.auth.request_code(PHONE, "ip:1")
    code = sms.last_code()
    for _ in range(5):
        with pytest.raises(CodeInvalid):
            await services.auth.login(PHONE, wrong(code))
    with pytest.raises(CodeInvalid):
        await services.auth.login(PHONE, code)


async def test_expired_code_is_refused_as_expired(
    services: Services, sms: RecordingSmsSender, clock: FrozenClock
) -> None:
    await services.auth.request_code(PHONE, "ip:1")
    clock.advance(300)
    with pytest.raises(CodeExpired):
        await services.auth.login(PHONE, sms.last_code())


async def test_code_is_valid_until_its_ttl(
    services: Services, sms: RecordingSmsSender, clock: FrozenClock
) -> None:
    await services.auth.request_code(PHONE, "ip:1")
    clock.advance(299)
    assert (await services.auth.login(PHONE, sms.last_code())).created


class TestBruteForce:
    async def test_failures_lock_the_phone_and_a_new_code_does_not_reset_them(
        self, services: Services, sms: RecordingSmsSender, clock: FrozenClock
    ) -> None:
        await services.auth.request_code(PHONE, "ip:1")
        for _ in range(5):
            with pytest.raises(CodeInvalid):
                await services.auth.login(PHONE, wrong(sms.last_code()))
        clock.advance(61)
        await services.auth.request_code(PHONE, "ip:1")  # a new code...
        for _ in range(4):
            with pytest.raises(CodeInvalid):
                await services.auth.login(PHONE, wrong(sms.last_code()))
        with pytest.raises(PhoneLocked) as err:  # ...the tenth failure in a row locks
            await services.auth.login(PHONE, wrong(sms.last_code()))
        assert err.value.retry_after == 3600
        # Locked: the right code fails, and no new code is sent.
        with pytest.raises(PhoneLocked):
            await services.auth.login(PHONE, sms.last_code())
        with pytest.raises(PhoneLocked):
            await services.auth.request_code(PHONE, "ip:1")

    async def test_lock_doubles_up_to_a_day_and_success_resets(
        self, services: Services, sms: RecordingSmsSender, clock: FrozenClock
    ) -> None:
        async def fail_ten_times() -> PhoneLocked:
            for _ in range(2):
                clock.advance(3601)
                await services.auth.request_code(PHONE, f"ip:{clock.now().timestamp()}")
                for attempt in range(5):
                    try:
                        await services.auth.login(PHONE, wrong(sms.last_code()))
                    except PhoneLocked as locked:
                        assert attempt == 4
                        return locked
                    except CodeInvalid:
                        pass
            raise AssertionError("not locked")

        durations = []
        for _ in range(7):
            locked = await fail_ten_times()
            durations.append(locked.retry_after)
            clock.advance(locked.retry_after)
        assert durations == [3600, 7200, 14400, 28800, 57600, 86400, 86400]
        # A success resets both the failures and the doubling.
        clock.advance(3601)
        await services.auth.request_code(PHONE, "ip:ok")
        await services.auth.login(PHONE, sms.last_code())
        assert (await fail_ten_times()).retry_after == 3600

    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {
            "OTP_SENDS_PER_DAY": 100,
            "OTP_SENDS_PER_HOUR": 100,
            "CLIENT_CODE_REQUESTS_PER_HOUR": 1000,
        }


class TestInviteOnLogin:
    async def test_new_user_becomes_a_referral_in_the_same_login(
        self, services: Services, sms: RecordingSmsSender
    ) -> None:
        referrer = await sign_up(services, sms, "+79990000001")
        await services.auth.request_code(PHONE, "ip:1")
        result = await services.auth.login(
            PHONE, sms.last_code(), invite_code=referrer.invite_code.lower()
        )
        assert result.created and result.user.referrer_id == referrer.id
        assert result.activation is not None and result.activation.referrer.id == referrer.id

    async def test_unknown_invite_refuses_the_login_and_keeps_the_code_usable(
        self, services: Services, sms: RecordingSmsSender, engine: AsyncEngine
    ) -> None:
        await services.auth.request_code(PHONE, "ip:1")
        code = sms.last_code()
        with pytest.raises(InviteNotFound):
            await services.auth.login(PHONE, code, invite_code="ZZZZZZ")
        assert await user_count(engine) == 0
        with pytest.raises(InvalidInviteCode):
            await services.auth.login(PHONE, code, invite_code="nope")
        result = await services.auth.login(PHONE, code)
        assert result.created and result.user.referrer_id is None

    async def test_returning_user_repeating_the_activated_code_is_fine(
        self, services: Services, sms: RecordingSmsSender, clock: FrozenClock
    ) -> None:
        referrer = await sign_up(services, sms, "+79990000001")
        await services.auth.request_code(PHONE, "ip:1")
        await services.auth.login(PHONE, sms.last_code(), invite_code=referrer.invite_code)
        clock.advance(61)
        await services.auth.request_code(PHONE, "ip:1")
        again = await services.auth.login(PHONE, sms.last_code(), invite_code=referrer.invite_code)
        assert again.activation is None and again.user.referrer_id == referrer.id


class TestPendingInviteOnLogin:
    """The bot's policy: the login always goes through; the invite only when the rules allow."""

    @pytest.mark.parametrize(
        ("invite", "refusal"),
        [
            ("ZZZZZZ", InviteNotFound),
            ("nope", InvalidInviteCode),
            ("own", InviteOwnCode),
        ],
    )
    async def test_a_refused_invite_does_not_stop_the_login(
        self,
        services: Services,
        sms: RecordingSmsSender,
        clock: FrozenClock,
        invite: str,
        refusal: type[Exception],
    ) -> None:
        me = await sign_up(services, sms, PHONE)
        clock.advance(61)
        await services.auth.request_code(PHONE, "tg:42")
        code = me.invite_code if invite == "own" else invite
        result = await services.auth.login_with_pending_invite(
            PHONE, sms.last_code(), code, TelegramProfile(42)
        )
        assert isinstance(result.invite_refused, refusal)
        assert result.activation is None
        assert result.user.id == me.id and result.user.telegram_id == 42
        assert result.user.referrer_id is None

    async def test_an_allowed_invite_is_applied_in_the_same_login(
        self, services: Services, sms: RecordingSmsSender
    ) -> None:
        referrer = await sign_up(services, sms, "+79990000001")
        await services.auth.request_code(PHONE, "tg:42")
        result = await services.auth.login_with_pending_invite(
            PHONE, sms.last_code(), referrer.invite_code, TelegramProfile(42)
        )
        assert result.created and result.invite_refused is None
        assert result.activation is not None and result.user.referrer_id == referrer.id

    async def test_a_cycle_is_refused_and_the_new_user_is_kept(
        self, services: Services, sms: RecordingSmsSender, clock: FrozenClock
    ) -> None:
        a = await sign_up(services, sms, "+79990000001")
        await services.auth.request_code(PHONE, "tg:42")
        result = await services.auth.login_with_pending_invite(
            PHONE, sms.last_code(), a.invite_code, TelegramProfile(42)
        )
        b = result.user
        # a now tries b's code: b is a's referral, so it would close a cycle.
        clock.advance(61)
        await services.auth.request_code("+79990000001", "tg:43")
        again = await services.auth.login_with_pending_invite(
            "+79990000001", sms.last_code("+79990000001"), b.invite_code, TelegramProfile(43)
        )
        assert isinstance(again.invite_refused, InviteCycle)
        assert again.user.id == a.id and again.user.referrer_id is None

    async def test_a_wrong_code_still_fails_the_login(
        self, services: Services, sms: RecordingSmsSender
    ) -> None:
        await services.auth.request_code(PHONE, "tg:42")
        with pytest.raises(CodeInvalid):
            await services.auth.login_with_pending_invite(
                PHONE, wrong(sms.last_code()), "ZZZZZZ", TelegramProfile(42)
            )


class TestTelegramLink:
    async def test_login_from_telegram_links_the_account_and_takes_the_name(
        self, services: Services, sms: RecordingSmsSender
    ) -> None:
        await services.auth.request_code(PHONE, "tg:42")
        profile = TelegramProfile(telegram_id=42, first_name="Анна", last_name="🙂", language="uk")
        result = await services.auth.login(PHONE, sms.last_code(), telegram=profile)
        user = result.user
        assert user.telegram_id == 42 and user.first_name == "Анна" and user.last_name is None
        assert user.language == "ru"
        assert (await services.accounts.user_by_telegram(42)) == user

    async def test_api_user_logging_in_from_telegram_is_the_same_user(
        self, services: Services, sms: RecordingSmsSender, clock: FrozenClock
    ) -> None:
        api_user = await sign_up(services, sms, PHONE)
        clock.advance(61)
        await services.auth.request_code(PHONE, "tg:42")
        result = await services.auth.login(PHONE, sms.last_code(), telegram=TelegramProfile(42))
        assert result.user.id == api_user.id and not result.created

    async def test_telegram_account_moves_to_the_phone_it_last_logged_in_with(
        self, services: Services, sms: RecordingSmsSender
    ) -> None:
        for phone in ("+79990000001", "+79990000002"):
            await services.auth.request_code(phone, "tg:42")
            await services.auth.login(phone, sms.last_code(phone), telegram=TelegramProfile(42))
        user = await services.accounts.user_by_telegram(42)
        assert user is not None and user.phone == "+79990000002"


async def test_resend_cooldown_error_is_rate_limited(services: Services) -> None:
    await services.auth.request_code(PHONE, "ip:1")
    with pytest.raises(RateLimited):
        await services.auth.request_code(PHONE, "ip:1")


async def test_send_again_during_the_cooldown_answers_the_time_left_and_sends_nothing(
    services: Services, sms: RecordingSmsSender, clock: FrozenClock
) -> None:
    await services.auth.request_code(PHONE, "tg:1")
    clock.advance(18)
    early = await services.auth.resend_code(PHONE, "tg:1")
    assert not early.sent and early.resend_after == 42 and len(sms.sent) == 1
    clock.advance(42)
    later = await services.auth.resend_code(PHONE, "tg:1")
    assert later.sent and later.resend_after == 60 and len(sms.sent) == 2


async def test_send_again_still_refuses_past_the_hourly_cap(
    services: Services, clock: FrozenClock
) -> None:
    for _ in range(5):
        await services.auth.request_code(PHONE, "tg:1")
        clock.advance(60)
    with pytest.raises(RateLimited) as refused:
        await services.auth.resend_code(PHONE, "tg:1")
    assert "this hour" in refused.value.message
