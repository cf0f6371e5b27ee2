"""The program over HTTP: API keys, POST /events/, balances, rewards and referral statuses."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.services import Services
from tests.api.conftest import Account, Api


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {
        "CLIENT_CODE_REQUESTS_PER_HOUR": 1000,
        "REWARD_REFERRER_FIXED": "100",
        "REWARD_REFERRER_PERCENT": "10",
        "REWARD_REFEREE_FIXED": "50",
        "REWARD_LEVEL2_PERCENT": "3",
        "REWARD_HOLD_SECONDS": "0",
    }


@pytest.fixture
async def events_key(services: Services) -> str:
    return (await services.api_keys.create("shop", ["events:write"])).secret


@pytest.fixture
async def pair(api: Api) -> tuple[Account, Account]:
    """Anna invited Boris."""
    anna = await api.sign_up("+79990000001")
    boris = await api.sign_up("+79990000002", referral_code=anna.invite_code)
    return anna, boris


def purchase(user: dict[str, Any], event_id: str = "order-1", amount: str = "990.00") -> Any:
    return {"event_id": event_id, "type": "purchase", "user": user, "amount": amount}


async def post_event(
    client: httpx.AsyncClient, body: Any, key: str | None, **headers: str
) -> httpx.Response:
    if key is not None:
        headers["X-API-Key"] = key
    return await client.post("/events/", json=body, headers=headers)


class TestEvents:
    async def test_a_new_event_is_201_and_credits_both_sides(
        self, client: httpx.AsyncClient, events_key: str, pair: tuple[Account, Account]
    ) -> None:
        anna, boris = pair
        r = await post_event(client, purchase({"phone": boris.phone}), events_key)
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["event_id"] == "order-1" and body["user_id"] == boris.id
        assert body["referral_status"] == "qualified"
        assert sorted(body["rewards"], key=lambda x: x["user_id"]) == [
            {
                "user_id": anna.id,
                "amount": "199.00",
                "status": "available",
                "reason": "referral_qualified",
            },
            {
                "user_id": boris.id,
                "amount": "50.00",
                "status": "available",
                "reason": "referral_qualified",
            },
        ]

    async def test_the_same_event_again_is_200_with_the_same_body(
        self, client: httpx.AsyncClient, events_key: str, pair: tuple[Account, Account]
    ) -> None:
        _, boris = pair
        first = await post_event(client, purchase({"id": boris.id}), events_key)
        again = await post_event(client, purchase({"id": boris.id}), events_key)
        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json() == first.json()

    async def test_the_same_event_id_with_another_amount_is_409(
        self, client: httpx.AsyncClient, events_key: str, pair: tuple[Account, Account]
    ) -> None:
        _, boris = pair
        await post_event(client, purchase({"id": boris.id}), events_key)
        r = await post_event(client, purchase({"id": boris.id}, amount="1.00"), events_key)
        assert r.status_code == 409 and r.json()["code"] == "event_conflict"

    async def test_an_unknown_user_is_404(self, client: httpx.AsyncClient, events_key: str) -> None:
        r = await post_event(client, purchase({"telegram_id": 42}), events_key)
        assert r.status_code == 404 and r.json()["code"] == "user_not_found"

    @pytest.mark.parametrize("amount", ["-1.00", "1.001", "abc", 9.99, "1e400", None, [], {"v": 1}])
    async def test_a_malformed_amount_is_422_and_changes_nothing(
        self,
        client: httpx.AsyncClient,
        events_key: str,
        pair: tuple[Account, Account],
        engine: AsyncEngine,
        amount: Any,
    ) -> None:
        _, boris = pair
        r = await post_event(client, {**purchase({"id": boris.id}), "amount": amount}, events_key)
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"].startswith("amount")
        async with engine.connect() as conn:
            events = (await conn.execute(text("SELECT count(*) FROM program_event"))).scalar()
        assert events == 0

    @pytest.mark.parametrize(
        "user", [{}, {"id": 1, "phone": "+79990000001"}, {"email": "x@example.org"}]
    )
    async def test_the_user_is_named_by_exactly_one_known_field(
        self, client: httpx.AsyncClient, events_key: str, user: dict[str, Any]
    ) -> None:
        r = await post_event(client, purchase(user), events_key)
        assert r.status_code == 422

    async def test_the_profile_and_the_rewards_page_show_the_balance(
        self, client: httpx.AsyncClient, events_key: str, pair: tuple[Account, Account]
    ) -> None:
        anna, boris = pair
        await post_event(client, purchase({"id": boris.id}), events_key)
        profile = (await client.get(f"/users/{anna.id}/", headers=anna.auth)).json()
        assert (profile["balance"], profile["pending_balance"]) == ("199.00", "0.00")
        page = (await client.get("/users/me/rewards/", headers=anna.auth)).json()
        assert page["balance"] == "199.00" and page["unit"] == "points"
        [entry] = page["items"]
        assert entry["amount"] == "199.00" and entry["reason"] == "referral_qualified"
        assert entry["event_id"] == "order-1" and entry["referral_user_id"] == boris.id
        referrals = (await client.get("/users/me/referrals/", headers=anna.auth)).json()
        assert referrals["items"][0]["status"] == "qualified"
        assert referrals["items"][0]["qualified_at"] is not None

    async def test_rewards_come_in_keyset_pages(
        self, client: httpx.AsyncClient, events_key: str, api: Api
    ) -> None:
        anna = await api.sign_up("+79990000001")
        for i in range(3):
            friend = await api.sign_up(f"+7999000010{i}", referral_code=anna.invite_code)
            await post_event(client, purchase({"id": friend.id}, f"o{i}", "1.00"), events_key)
        first = (await client.get("/users/me/rewards/?limit=2", headers=anna.auth)).json()
        assert len(first["items"]) == 2 and first["next_cursor"]
        rest = await client.get(
            f"/users/me/rewards/?limit=2&cursor={first['next_cursor']}", headers=anna.auth
        )
        assert len(rest.json()["items"]) == 1 and rest.json()["next_cursor"] is None


class TestApiKeys:
    async def test_a_missing_wrong_or_revoked_key_is_401(
        self, client: httpx.AsyncClient, services: Services, events_key: str
    ) -> None:
        body = purchase({"id": 1})
        for wrong in (None, "", "rk_wrong", events_key + "x"):
            r = await post_event(client, body, wrong)
            assert r.status_code == 401, wrong
            assert r.json()["code"] == "api_key_invalid"
            assert r.headers["WWW-Authenticate"] == "ApiKey"
        [key] = await services.api_keys.list()
        await services.api_keys.revoke(key.id)
        assert (await post_event(client, body, events_key)).status_code == 401

    async def test_a_key_without_the_scope_is_403(
        self, client: httpx.AsyncClient, services: Services
    ) -> None:
        reader = (await services.api_keys.create("crm", ["users:read"])).secret
        r = await post_event(client, purchase({"id": 1}), reader)
        assert r.status_code == 403 and r.json()["code"] == "scope_missing"

    async def test_a_user_jwt_is_not_a_key_and_a_key_is_not_a_jwt(
        self, client: httpx.AsyncClient, events_key: str, pair: tuple[Account, Account]
    ) -> None:
        anna, _ = pair
        r = await client.post("/events/", json=purchase({"id": anna.id}), headers=anna.auth)
        assert r.status_code == 401
        bearer_key = {"Authorization": f"Bearer {events_key}"}
        assert (await client.get("/users/me/", headers=bearer_key)).status_code == 401
        assert (
            await client.get("/users/me/", headers={"X-API-Key": events_key})
        ).status_code == 401

    async def test_only_a_hash_of_the_key_is_stored(
        self, services: Services, engine: AsyncEngine
    ) -> None:
        new = await services.api_keys.create("shop", ["events:write", "users:read"])
        assert new.secret.startswith("rk_") and new.key.prefix == new.secret[:10]
        async with engine.connect() as conn:
            stored = [tuple(row) for row in await conn.execute(text("SELECT * FROM api_key"))]
        assert stored and all(new.secret not in str(value) for row in stored for value in row)

    @pytest.mark.parametrize("scopes", [[], ["events:read"], ["admin", "root"]])
    async def test_unknown_scopes_are_refused(self, services: Services, scopes: list[str]) -> None:
        from core.domain.errors import InvalidInput

        with pytest.raises(InvalidInput, match="Scopes"):
            await services.api_keys.create("x", scopes)


class TestIntegrationLookups:
    async def test_a_reader_sees_any_user_by_id_phone_or_telegram_id(
        self,
        client: httpx.AsyncClient,
        services: Services,
        events_key: str,
        pair: tuple[Account, Account],
    ) -> None:
        anna, boris = pair
        await post_event(client, purchase({"id": boris.id}), events_key)
        headers = {"X-API-Key": (await services.api_keys.create("crm", ["users:read"])).secret}
        by_id = await client.get(f"/integrations/users/{boris.id}/", headers=headers)
        assert by_id.status_code == 200
        seen = by_id.json()
        assert seen["referrer_id"] == anna.id and seen["referral_status"] == "qualified"
        assert seen["balance"] == "50.00"
        by_phone = await client.get(
            "/integrations/users/", params={"phone": anna.phone}, headers=headers
        )
        assert by_phone.json()["id"] == anna.id and by_phone.json()["qualified_count"] == 1
        assert (
            await client.get("/integrations/users/", params={"telegram_id": 5}, headers=headers)
        ).status_code == 404
        assert (await client.get("/integrations/users/", headers=headers)).status_code == 422
        events_only = {"X-API-Key": events_key}
        r = await client.get(f"/integrations/users/{anna.id}/", headers=events_only)
        assert r.status_code == 403
