"""JWT pairs: claims, types, single-use refresh with chain revocation, logout."""

from typing import Any

import jwt
import pytest

from core.domain.errors import TokenInvalid, TokenReused
from core.services import Services
from tests.conftest import TEST_SECRET
from tests.fakes.clock import FrozenClock
from tests.fakes.sms import RecordingSmsSender
from tests.services.helpers import sign_up


@pytest.fixture
async def user_id(services: Services, sms: RecordingSmsSender) -> int:
    return (await sign_up(services, sms, "+79991234567")).id


def claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


async def test_pair_carries_every_required_claim(services: Services, user_id: int) -> None:
    pair = await services.tokens.issue(user_id)
    access, refresh = claims(pair.access_token), claims(pair.refresh_token)
    for c, typ in ((access, "access"), (refresh, "refresh")):
        assert c["sub"] == str(user_id) and c["typ"] == typ
        assert {"iat", "exp", "jti", "iss", "aud"} <= c.keys()
    assert access["exp"] - access["iat"] == 900 == pair.expires_in
    assert refresh["exp"] - refresh["iat"] == 14 * 86400
    assert jwt.get_unverified_header(pair.access_token)["alg"] == "HS256"


async def test_access_token_authenticates_and_refresh_token_does_not(
    services: Services, user_id: int
) -> None:
    pair = await services.tokens.issue(user_id)
    assert services.tokens.authenticate(pair.access_token) == user_id
    with pytest.raises(TokenInvalid):
        services.tokens.authenticate(pair.refresh_token)
    with pytest.raises(TokenInvalid):
        await services.tokens.refresh(pair.access_token)


async def test_expired_access_token_is_refused(
    services: Services, user_id: int, clock: FrozenClock
) -> None:
    pair = await services.tokens.issue(user_id)
    clock.advance(900)
    with pytest.raises(TokenInvalid):
        services.tokens.authenticate(pair.access_token)


@pytest.mark.parametrize(
    "mutate",
    [
        {"alg": "none"},
        {"key": "another-secret-another-secret-another-secret"},
        {"drop": "aud"},
        {"drop": "jti"},
        {"set": ("iss", "someone-else")},
        {"set": ("aud", "other-api")},
        {"set": ("sub", "abc")},
    ],
)
async def test_forged_or_incomplete_tokens_are_refused(
    services: Services, user_id: int, clock: FrozenClock, mutate: dict[str, Any]
) -> None:
    now = int(clock.now().timestamp())
    payload = {
        "sub": str(user_id),
        "iat": now,
        "exp": now + 60,
        "jti": "x",
        "typ": "access",
        "iss": "referral-service",
        "aud": "referral-api",
    }
    if "drop" in mutate:
        del payload[mutate["drop"]]
    if "set" in mutate:
        key, value = mutate["set"]
        payload[key] = value
    if mutate.get("alg") == "none":
        token = jwt.encode(payload, None, algorithm="none")  # type: ignore[arg-type]
    else:
        token = jwt.encode(payload, mutate.get("key", TEST_SECRET), algorithm="HS256")
    with pytest.raises(TokenInvalid):
        services.tokens.authenticate(token)


async def test_refresh_rotates_and_each_refresh_token_works_once(
    services: Services, user_id: int
) -> None:
    first = await services.tokens.issue(user_id)
    second = await services.tokens.refresh(first.refresh_token)
    assert second.refresh_token != first.refresh_token
    assert services.tokens.authenticate(second.access_token) == user_id
    with pytest.raises(TokenReused):
        await services.tokens.refresh(first.refresh_token)
    # Reuse revoked the whole chain, the newest refresh token included.
    with pytest.raises(TokenInvalid):
        await services.tokens.refresh(second.refresh_token)


async def test_other_logins_survive_a_revoked_chain(services: Services, user_id: int) -> None:
    phone_a = await services.tokens.issue(user_id)
    phone_b = await services.tokens.issue(user_id)
    await services.tokens.logout(phone_a.refresh_token)
    with pytest.raises(TokenInvalid):
        await services.tokens.refresh(phone_a.refresh_token)
    await services.tokens.refresh(phone_b.refresh_token)


async def test_expired_refresh_token_is_refused(
    services: Services, user_id: int, clock: FrozenClock
) -> None:
    pair = await services.tokens.issue(user_id)
    clock.advance(days=14)
    with pytest.raises(TokenInvalid):
        await services.tokens.refresh(pair.refresh_token)


async def test_logout_with_garbage_is_refused(services: Services) -> None:
    with pytest.raises(TokenInvalid):
        await services.tokens.logout("not-a-token")


class TestGrace:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"JWT_REFRESH_REUSE_GRACE_SECONDS": 5}

    async def test_a_retry_within_the_grace_gets_a_pair_and_later_reuse_revokes(
        self, services: Services, user_id: int, clock: FrozenClock
    ) -> None:
        first = await services.tokens.issue(user_id)
        await services.tokens.refresh(first.refresh_token)
        clock.advance(3)
        retry = await services.tokens.refresh(first.refresh_token)
        clock.advance(3)
        with pytest.raises(TokenReused):
            await services.tokens.refresh(first.refresh_token)
        with pytest.raises(TokenInvalid):
            await services.tokens.refresh(retry.refresh_token)
