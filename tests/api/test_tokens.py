"""Refresh rotation and logout over HTTP."""

import pytest

from tests.api.conftest import Account, Api


@pytest.fixture
async def alice(api: Api) -> Account:
    return await api.sign_up("+79990000001")


async def test_refresh_gives_a_new_pair_once(api: Api, alice: Account) -> None:
    r = await api.client.post(api.url("refresh_token"), json={"refresh_token": alice.refresh})
    assert r.status_code == 200
    new = r.json()
    assert new["refresh_token"] != alice.refresh and new["token_type"] == "bearer"
    me = await api.client.get(
        api.url("get_me"), headers={"Authorization": f"Bearer {new['access_token']}"}
    )
    assert me.status_code == 200
    r = await api.client.post(api.url("refresh_token"), json={"refresh_token": alice.refresh})
    assert r.status_code == 401 and r.json()["code"] == "token_reused"
    r = await api.client.post(
        api.url("refresh_token"), json={"refresh_token": new["refresh_token"]}
    )
    assert r.status_code == 401 and r.json()["code"] == "token_invalid"


async def test_access_token_is_not_a_refresh_token(api: Api, alice: Account) -> None:
    r = await api.client.post(api.url("refresh_token"), json={"refresh_token": alice.access})
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer"


async def test_logout_revokes_the_chain(api: Api, alice: Account) -> None:
    r = await api.client.post(api.url("logout"), json={"refresh_token": alice.refresh})
    assert r.status_code == 204 and r.content == b""
    r = await api.client.post(api.url("refresh_token"), json={"refresh_token": alice.refresh})
    assert r.status_code == 401


@pytest.mark.parametrize("body", [{}, {"refresh_token": ""}, {"refresh_token": 5}])
async def test_malformed_refresh_is_422(api: Api, body: dict[str, object]) -> None:
    assert (await api.client.post(api.url("refresh_token"), json=body)).status_code == 422
