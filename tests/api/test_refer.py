"""POST /users/refer/: activating another user's invite code."""

import asyncio

import pytest

from tests.api.conftest import Account, Api


@pytest.fixture
async def pair(api: Api) -> tuple[Account, Account]:
    return await api.sign_up("+79990000001"), await api.sign_up("+79990000002")


async def test_activation_returns_the_code_and_the_referrer(
    api: Api, pair: tuple[Account, Account]
) -> None:
    a, b = pair
    r = await api.client.post(
        api.url("activate_invite"),
        json={"referral_code": f"{a.invite_code[:3]}-{a.invite_code[3:].lower()}"},
        headers=b.auth,
    )
    assert r.status_code == 200
    assert r.json() == {"referral_code_refer": a.invite_code, "refer": a.id}


@pytest.mark.parametrize(
    ("code", "status", "error"),
    [
        ("ZZZZZZ", 404, "invite_not_found"),
        ("jq!", 422, "invalid_invite_code"),
        ("", 422, "validation_error"),
    ],
)
async def test_unknown_or_malformed(
    api: Api, pair: tuple[Account, Account], code: str, status: int, error: str
) -> None:
    r = await api.client.post(
        api.url("activate_invite"), json={"referral_code": code}, headers=pair[0].auth
    )
    assert r.status_code == status and r.json()["code"] == error


async def test_own_code_already_activated_and_cycle_are_409(
    api: Api, pair: tuple[Account, Account]
) -> None:
    a, b = pair
    c = await api.sign_up("+79990000003")
    post = api.client.post
    r = await post(
        api.url("activate_invite"), json={"referral_code": a.invite_code}, headers=a.auth
    )
    assert (r.status_code, r.json()["code"]) == (409, "invite_own_code")
    assert (
        await post(
            api.url("activate_invite"), json={"referral_code": a.invite_code}, headers=b.auth
        )
    ).status_code == 200
    r = await post(
        api.url("activate_invite"), json={"referral_code": c.invite_code}, headers=b.auth
    )
    assert (r.status_code, r.json()["code"]) == (409, "invite_already_activated")
    r = await post(
        api.url("activate_invite"), json={"referral_code": b.invite_code}, headers=a.auth
    )
    assert (r.status_code, r.json()["code"]) == (409, "invite_cycle")


async def test_needs_a_token(api: Api, pair: tuple[Account, Account]) -> None:
    r = await api.client.post(
        api.url("activate_invite"), json={"referral_code": pair[0].invite_code}
    )
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer"


async def test_crossed_activations_through_the_api_make_no_cycle(
    api: Api, pair: tuple[Account, Account]
) -> None:
    a, b = pair
    ra, rb = await asyncio.gather(
        api.client.post(
            api.url("activate_invite"), json={"referral_code": b.invite_code}, headers=a.auth
        ),
        api.client.post(
            api.url("activate_invite"), json={"referral_code": a.invite_code}, headers=b.auth
        ),
    )
    assert sorted([ra.status_code, rb.status_code]) == [200, 409]
