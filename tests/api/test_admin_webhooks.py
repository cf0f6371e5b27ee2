"""The operator's webhook API: scope ``admin``, secrets shown once, delivery log and replay."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from core.services import Services
from tests.api.conftest import Api
from tests.fakes.webhook_receiver import WebhookReceiver


@pytest.fixture
async def admin(services: Services) -> dict[str, str]:
    return {"X-API-Key": (await services.api_keys.create("ops", ["admin"])).secret}


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    async with WebhookReceiver() as running:
        yield running


async def test_an_endpoint_is_made_listed_changed_and_removed(
    client: httpx.AsyncClient, admin: dict[str, str], receiver: WebhookReceiver
) -> None:
    r = await client.post(
        "/admin/webhooks/",
        json={"url": receiver.url, "events": ["referral.joined"], "description": "CRM"},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["secret"].startswith("whsec_") and made["enabled"] is True
    assert made["events"] == ["referral.joined"] and made["include_phones"] is False
    listed = (await client.get("/admin/webhooks/", headers=admin)).json()["items"]
    assert [e["id"] for e in listed] == [made["id"]] and "secret" not in listed[0]
    r = await client.patch(
        f"/admin/webhooks/{made['id']}/", json={"enabled": False, "events": ["*"]}, headers=admin
    )
    assert r.status_code == 200 and r.json()["enabled"] is False and r.json()["events"] == ["*"]
    r = await client.post(f"/admin/webhooks/{made['id']}/rotate-secret/", headers=admin)
    assert r.status_code == 200 and r.json()["secret"] not in (made["secret"], None)
    assert (await client.delete(f"/admin/webhooks/{made['id']}/", headers=admin)).status_code == 204
    assert (await client.get(f"/admin/webhooks/{made['id']}/", headers=admin)).status_code == 404


async def test_the_delivery_log_and_replay(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    receiver: WebhookReceiver,
    services: Services,
    api: Api,
) -> None:
    made = (
        await client.post(
            "/admin/webhooks/",
            json={"url": receiver.url, "events": ["user.created"]},
            headers=admin,
        )
    ).json()
    receiver.answers.append(500)
    await api.sign_up("+79990000001")
    await services.delivery.dispatch()
    await services.delivery.deliver_webhooks()
    r = await client.get(f"/admin/webhooks/{made['id']}/deliveries/?status=pending", headers=admin)
    assert r.status_code == 200
    [pending] = r.json()["items"]
    assert pending["event_type"] == "user.created" and pending["attempts"] == 1
    [attempt] = pending["log"]
    assert attempt["status_code"] == 500 and attempt["duration_ms"] >= 0
    assert attempt["response"] == '{"status": 500}'
    r = await client.post(
        f"/admin/webhooks/{made['id']}/deliveries/{pending['event_id']}/replay/", headers=admin
    )
    assert r.status_code == 202
    await services.delivery.deliver_webhooks()
    delivered = await client.get(
        f"/admin/webhooks/{made['id']}/deliveries/?status=delivered", headers=admin
    )
    assert [d["event_id"] for d in delivered.json()["items"]] == [pending["event_id"]]
    r = await client.post(
        f"/admin/webhooks/{made['id']}/deliveries/evt_nope/replay/", headers=admin
    )
    assert r.status_code == 404 and r.json()["code"] == "event_not_found"


@pytest.mark.parametrize(
    "body",
    [
        {"url": "ftp://example.org", "events": ["*"]},
        {"url": "https://example.org/h", "events": []},
        {"url": "https://example.org/h", "events": ["nope"]},
        {"url": "https://example.org/h", "events": ["*"], "secret": "mine"},
    ],
)
async def test_a_bad_endpoint_is_422(
    client: httpx.AsyncClient, admin: dict[str, str], body: dict[str, object]
) -> None:
    r = await client.post("/admin/webhooks/", json=body, headers=admin)
    assert r.status_code == 422, r.text


async def test_only_an_admin_key_may_manage_webhooks(
    client: httpx.AsyncClient, services: Services, api: Api
) -> None:
    assert (await client.get("/admin/webhooks/")).status_code == 401
    events_only = (await services.api_keys.create("shop", ["events:write"])).secret
    r = await client.get("/admin/webhooks/", headers={"X-API-Key": events_only})
    assert r.status_code == 403
    user = await api.sign_up("+79990000001")
    assert (await client.get("/admin/webhooks/", headers=user.auth)).status_code == 401
