"""Campaigns, stats and the leaderboard over HTTP, and the operator's review and contests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from core.services import Services
from tests.api.conftest import Account, Api
from tests.conftest import QUIET_FRAUD
from tests.fakes.clock import FrozenClock


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {
        "CLIENT_CODE_REQUESTS_PER_HOUR": 1000,
        **QUIET_FRAUD,
        "FRAUD_FAST_QUALIFY_SECONDS": 3600,  # every purchase in these tests comes fast
    }


@pytest.fixture
async def admin(services: Services) -> dict[str, str]:
    return {"X-API-Key": (await services.api_keys.create("ops", ["admin"])).secret}


@pytest.fixture
async def team(api: Api) -> list[Account]:
    anna = await api.sign_up("+79990000001")
    friends = [
        await api.sign_up(f"+7999000010{i}", referral_code=anna.invite_code) for i in range(3)
    ]
    return [anna, *friends]


async def test_a_campaign_is_made_with_its_link_and_listed(
    client: httpx.AsyncClient, team: list[Account]
) -> None:
    anna = team[0]
    r = await client.post("/users/me/campaigns/", json={"name": "My channel"}, headers=anna.auth)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["slug"] == "my_channel"
    assert made["link"] == f"https://t.me/referral_test_bot?start={anna.invite_code}-my_channel"
    listed = (await client.get("/users/me/campaigns/", headers=anna.auth)).json()["items"]
    assert [c["slug"] for c in listed] == ["my_channel"]
    bad = await client.post("/users/me/campaigns/", json={"name": ""}, headers=anna.auth)
    assert bad.status_code == 422


async def test_stats_show_the_funnel_of_a_period(
    client: httpx.AsyncClient, team: list[Account]
) -> None:
    anna = team[0]
    r = await client.get("/users/me/stats/", headers=anna.auth)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"]["joined"] == 3 and body["total"]["rewards"] == "0.00"
    assert body["total"]["click_to_login"] is None  # no clicks: nothing to divide
    since = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    empty = await client.get(
        "/users/me/stats/", params={"from": since, "to": since}, headers=anna.auth
    )
    assert empty.status_code == 422


async def test_the_leaderboard_ranks_and_masks(
    client: httpx.AsyncClient, team: list[Account], api: Api
) -> None:
    boris = await api.sign_up("+79990000002")
    await api.sign_up("+79990000201", referral_code=boris.invite_code)
    r = await client.get("/leaderboard/?period=all&by=joined", headers=boris.auth)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [(e["rank"], e["count"], e["you"]) for e in body["items"]] == [
        (1, 3, False),
        (2, 1, True),
    ]
    assert body["items"][0]["name"] == "+7999***0001"  # no name: a masked phone, never a phone
    assert body["me"]["rank"] == 2 and body["contest"] is None
    assert (await client.get("/leaderboard/?period=year", headers=boris.auth)).status_code == 422
    assert (await client.get("/leaderboard/")).status_code == 401


async def test_the_review_queue_approve_reject_and_the_audit(
    client: httpx.AsyncClient,
    team: list[Account],
    admin: dict[str, str],
    services: Services,
) -> None:
    _, boris, vera, _ = team
    shop = {"X-API-Key": (await services.api_keys.create("shop", ["events:write"])).secret}
    for friend in (boris, vera):
        body = {"event_id": f"o{friend.id}", "type": "purchase", "user": {"id": friend.id}}
        assert (await client.post("/events/", json=body, headers=shop)).status_code == 201
    queue = (await client.get("/admin/referrals/?status=flagged", headers=admin)).json()
    assert sorted(i["referee"]["id"] for i in queue["items"]) == sorted([boris.id, vera.id])
    assert queue["items"][0]["signals"] == ["fast_qualify"]
    ok = await client.post(f"/admin/referrals/{boris.id}/approve/", json={}, headers=admin)
    assert ok.status_code == 200 and ok.json()["status"] == "qualified"
    no = await client.post(f"/admin/referrals/{vera.id}/reject/", json={}, headers=admin)
    assert no.status_code == 422
    no = await client.post(
        f"/admin/referrals/{vera.id}/reject/", json={"reason": "self-referral"}, headers=admin
    )
    assert no.status_code == 200 and no.json()["status"] == "rejected"
    again = await client.post(f"/admin/referrals/{boris.id}/approve/", headers=admin)
    assert again.status_code == 409 and again.json()["code"] == "referral_not_flagged"
    audit = (await client.get("/admin/audit/", headers=admin)).json()["items"]
    assert [a["action"] for a in audit[:2]] == ["referral.reject", "referral.approve"]
    assert audit[0]["reason"] == "self-referral" and audit[0]["actor"].startswith("key:")


async def test_attach_and_detach_by_hand(
    client: httpx.AsyncClient, team: list[Account], admin: dict[str, str], api: Api
) -> None:
    anna, boris = team[0], team[1]
    loner = await api.sign_up("+79990000301")
    r = await client.post(
        f"/admin/users/{loner.id}/referrer/",
        json={"invite_code": anna.invite_code, "reason": "support ticket 12"},
        headers=admin,
    )
    assert r.status_code == 200 and r.json()["referrer_id"] == anna.id
    cycle = await client.post(
        f"/admin/users/{anna.id}/referrer/", json={"invite_code": boris.invite_code}, headers=admin
    )
    assert cycle.status_code == 409 and cycle.json()["code"] == "invite_cycle"
    r = await client.request(
        "DELETE", f"/admin/users/{loner.id}/referrer/", json={"reason": "mistake"}, headers=admin
    )
    assert r.status_code == 200 and r.json()["referrer_id"] is None


async def test_contests_are_made_and_shown(
    client: httpx.AsyncClient, team: list[Account], admin: dict[str, str], clock: FrozenClock
) -> None:
    now = clock.now()
    body = {
        "title": "December",
        "starts_at": (now - timedelta(days=1)).isoformat(),
        "ends_at": (now + timedelta(days=6)).isoformat(),
        "by": "joined",
        "prizes": ["iPhone", "AirPods"],
    }
    r = await client.post("/admin/contests/", json=body, headers=admin)
    assert r.status_code == 201, r.text
    contest = r.json()
    assert contest["standings"] == [
        {"rank": 1, "user_id": team[0].id, "name": "+7999***0001", "count": 3, "prize": None}
    ]
    board = (await client.get("/leaderboard/", headers=team[1].auth)).json()
    assert board["contest"]["id"] == contest["id"]
    bad = await client.post("/admin/contests/", json={**body, "prizes": []}, headers=admin)
    assert bad.status_code == 422
    assert (await client.get(f"/admin/contests/{contest['id']}/", headers=admin)).status_code == 200


async def test_the_operators_api_needs_an_admin_key(
    client: httpx.AsyncClient, team: list[Account]
) -> None:
    for path in ("/admin/referrals/", "/admin/audit/", "/admin/contests/", "/admin/campaigns/"):
        assert (await client.get(path)).status_code == 401
        assert (await client.get(path, headers=team[0].auth)).status_code == 401
