"""Profiles: the caller's own only; editing names; paging referrals."""

import pytest

from tests.api.conftest import Account, Api
from tests.fakes.clock import FrozenClock


@pytest.fixture
async def alice(api: Api) -> Account:
    return await api.sign_up("+79990000001")


async def test_profile_of_another_user_is_404_with_nothing_of_theirs(
    api: Api, alice: Account
) -> None:
    bob = await api.sign_up("+79990000002")
    r = await api.client.get(api.url("get_user", id=str(bob.id)), headers=alice.auth)
    assert r.status_code == 404
    assert r.json() == {"detail": "User not found.", "code": "user_not_found"}
    assert bob.phone not in r.text and bob.invite_code not in r.text


async def test_profile_needs_a_bearer_token(api: Api, alice: Account) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer nonsense"},
        {"Authorization": f"Basic {alice.access}"},
        {"Authorization": f"Bearer {alice.refresh}"},
    ):
        r = await api.client.get(api.url("get_user", id=str(alice.id)), headers=headers)
        assert r.status_code == 401, headers
        assert r.headers["WWW-Authenticate"] == "Bearer"
        assert r.json()["code"] == "token_invalid"


@pytest.mark.parametrize(
    ("user_id", "status"), [("abc", 404), ("-1", 404), ("0", 422), (str(2**64), 422)]
)
async def test_bad_ids_are_refused(api: Api, alice: Account, user_id: str, status: int) -> None:
    r = await api.client.get(f"/users/{user_id}/", headers=alice.auth)
    assert r.status_code == status


async def test_me_and_by_id_agree(api: Api, alice: Account) -> None:
    me = await api.client.get(api.url("get_me"), headers=alice.auth)
    by_id = await api.client.get(api.url("get_user", id=str(alice.id)), headers=alice.auth)
    assert me.json() == by_id.json()
    assert me.json()["referral_count"] == 0


async def test_names_are_edited_and_validated(api: Api, alice: Account) -> None:
    r = await api.client.patch(
        api.url("update_me"),
        json={"first_name": " Анна ", "last_name": "O'Neil"},
        headers=alice.auth,
    )
    assert r.status_code == 200
    assert (r.json()["first_name"], r.json()["last_name"]) == ("Анна", "O'Neil")
    r = await api.client.patch(
        api.url("update_me"), json={"first_name": "R2D2"}, headers=alice.auth
    )
    assert r.status_code == 422 and r.json()["code"] == "invalid_name"
    r = await api.client.patch(api.url("update_me"), json={}, headers=alice.auth)
    assert r.status_code == 422
    me = (await api.client.get(api.url("get_me"), headers=alice.auth)).json()
    assert me["first_name"] == "Анна"


async def test_referrals_are_paged_with_cursors(
    api: Api, alice: Account, clock: FrozenClock
) -> None:
    phones = []
    for i in range(5):
        clock.advance(1)
        phone = f"+7999000010{i}"
        await api.sign_up(phone, referral_code=alice.invite_code)
        phones.append(phone)
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        r = await api.client.get(api.url("list_referrals"), params=params, headers=alice.auth)
        assert r.status_code == 200
        page = r.json()
        assert len(page["items"]) <= 2
        assert set(page["items"][0]) == {
            "id",
            "phone",
            "first_name",
            "last_name",
            "joined_at",
            "status",
            "qualified_at",
        }
        seen += [item["phone"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(phones))
    profile = (await api.client.get(api.url("get_me"), headers=alice.auth)).json()
    assert profile["referral_count"] == 5 and profile["referral_list"] == list(reversed(phones))


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 101}, {"limit": "x"}, {"cursor": "garbage"}]
)
async def test_bad_paging_is_422(api: Api, alice: Account, params: dict[str, str | int]) -> None:
    r = await api.client.get(api.url("list_referrals"), params=params, headers=alice.auth)
    assert r.status_code == 422


async def test_health_and_readiness(api: Api) -> None:
    assert (await api.client.get(api.url("healthz"))).json() == {"status": "ok"}
    assert (await api.client.get(api.url("readyz"))).json() == {"status": "ok"}


async def test_responses_carry_a_request_id(api: Api) -> None:
    r = await api.client.get(api.url("healthz"), headers={"X-Request-ID": "abc-123"})
    assert r.headers["X-Request-ID"] == "abc-123"
    r = await api.client.get(api.url("healthz"))
    assert len(r.headers["X-Request-ID"]) == 32


async def test_unknown_path_and_method_use_the_error_shape(api: Api) -> None:
    r = await api.client.get("/nowhere")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = await api.client.delete(api.url("request_code"))
    assert r.status_code == 405 and r.json()["code"] == "method_not_allowed"
    assert "POST" in r.headers["Allow"]


async def test_unknown_paging_parameters_are_refused(api: Api, alice: Account) -> None:
    r = await api.client.get(api.url("list_referrals"), params={"page": 2}, headers=alice.auth)
    assert r.status_code == 422 and r.json()["errors"][0]["field"].endswith("page")
