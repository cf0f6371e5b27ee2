"""POST /user/auth/: tokens for a good code; 401, 404, 409, 422, 429 otherwise."""

import jwt
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import UserRow
from tests.api.conftest import Api
from tests.fakes.clock import FrozenClock
from tests.fakes.sms import RecordingSmsSender

PHONE = "+79991234567"


async def users(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(UserRow))).scalar_one())


async def request(api: Api, phone: str = PHONE) -> str:
    r = await api.client.post(api.url("request_code"), json={"phone": phone})
    assert r.status_code == 200
    return api.sms.last_code(phone)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10000:04d}"


async def test_first_login_creates_the_account_and_returns_a_pair(
    api: Api, engine: AsyncEngine
) -> None:
    code = await request(api)
    r = await api.client.post(api.url("login"), json={"phone": PHONE, "otp_code": code})
    assert r.status_code == 200
    body = r.json()
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["typ"] == "access" and claims["sub"].isdigit()
    assert await users(engine) == 1


async def test_wrong_code_is_401_with_tries_left(api: Api) -> None:
    code = await request(api)
    r = await api.client.post(api.url("login"), json={"phone": PHONE, "otp_code": wrong(code)})
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == "Bearer"
    assert r.json() == {"detail": "Wrong code. Attempts left: 4.", "code": "code_invalid"}


async def test_used_code_is_401(api: Api) -> None:
    code = await request(api)
    assert (
        await api.client.post(api.url("login"), json={"phone": PHONE, "otp_code": code})
    ).status_code == 200
    r = await api.client.post(api.url("login"), json={"phone": PHONE, "otp_code": code})
    assert r.status_code == 401 and r.json()["code"] == "code_invalid"


async def test_expired_code_is_401_expired(api: Api, clock: FrozenClock) -> None:
    code = await request(api)
    clock.advance(301)
    r = await api.client.post(api.url("login"), json={"phone": PHONE, "otp_code": code})
    assert r.status_code == 401 and r.json()["code"] == "code_expired"


async def test_locked_phone_is_429_with_retry_after(api: Api, clock: FrozenClock) -> None:
    for _ in range(2):
        code = await request(api)
        for _ in range(5):
            r = await api.client.post(
                api.url("login"), json={"phone": PHONE, "otp_code": wrong(code)}
            )
        clock.advance(61)
    assert r.status_code == 429
    assert r.json()["code"] == "phone_locked" and r.headers["Retry-After"] == "3600"


async def test_login_as_a_referral(api: Api) -> None:
    friend = await api.sign_up("+79990000001")
    code = await request(api)
    r = await api.client.post(
        api.url("login"),
        json={"phone": PHONE, "otp_code": code, "referral_code": friend.invite_code},
    )
    assert r.status_code == 200
    profile = (
        await api.client.get(
            api.url("get_me"), headers={"Authorization": f"Bearer {r.json()['access_token']}"}
        )
    ).json()
    assert profile["refer"] == friend.id and profile["referral_code_refer"] == friend.invite_code


async def test_unknown_referral_code_is_404_and_changes_nothing(
    api: Api, engine: AsyncEngine
) -> None:
    code = await request(api)
    r = await api.client.post(
        api.url("login"), json={"phone": PHONE, "otp_code": code, "referral_code": "ZZZZZZ"}
    )
    assert r.status_code == 404 and r.json()["code"] == "invite_not_found"
    assert await users(engine) == 0
    r = await api.client.post(api.url("login"), json={"phone": PHONE, "otp_code": code})
    assert r.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"phone": PHONE},
        {"otp_code": "1234"},
        {"phone": PHONE, "otp_code": 1234},
        {"phone": PHONE, "otp_code": "12ab"},
        {"phone": PHONE, "otp_code": "1234", "referral_code": "??"},
        {"phone": PHONE, "otp_code": "1234", "extra": 1},
    ],
)
async def test_malformed_login_is_422(
    api: Api, body: dict[str, object], sms: RecordingSmsSender
) -> None:
    r = await api.client.post(api.url("login"), json=body)
    assert r.status_code == 422
    assert r.json()["detail"] and r.json()["code"]


async def test_login_creates_one_account_per_phone(
    api: Api, engine: AsyncEngine, clock: FrozenClock
) -> None:
    first = await api.sign_up(PHONE)
    clock.advance(61)
    again = await api.sign_up(PHONE)
    assert again.id == first.id and await users(engine) == 1
