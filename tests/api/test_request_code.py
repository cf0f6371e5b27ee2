"""POST /user/veryfi/: sending a code, and every refusal."""

from typing import Any

import httpx
import pytest

from tests.api.conftest import Api
from tests.fakes.clock import FrozenClock
from tests.fakes.sms import RecordingSmsSender


async def test_code_is_sent_in_the_callers_language(
    client: httpx.AsyncClient, api: Api, sms: RecordingSmsSender
) -> None:
    r = await client.post(
        api.url("request_code"),
        json={"phone": "8 999 123 45 67"},
        headers={"Accept-Language": "ru-RU,ru;q=0.9"},
    )
    assert r.status_code == 200
    assert sms.sent == [("+79991234567", f"Ваш код: {sms.last_code()}")]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"phone": "12345"}, None),
        ({"phone": ""}, "phone"),
        ({}, "phone"),
        ({"phone": 79991234567}, "phone"),
    ],
)
async def test_bad_phone_is_422_and_sends_nothing(
    client: httpx.AsyncClient,
    api: Api,
    sms: RecordingSmsSender,
    body: dict[str, Any],
    field: str | None,
) -> None:
    r = await client.post(api.url("request_code"), json=body)
    assert r.status_code == 422
    data = r.json()
    assert data["detail"] and data["code"] in {"invalid_phone", "validation_error"}
    if field:
        assert data["errors"][0]["field"] == field
    assert sms.sent == []


async def test_foreign_number_is_refused_with_the_reason(
    client: httpx.AsyncClient, api: Api
) -> None:
    r = await client.post(api.url("request_code"), json={"phone": "+12025550123"})
    assert r.status_code == 422
    assert r.json()["code"] == "phone_not_allowed" and "+1" in r.json()["detail"]


async def test_too_soon_is_429_with_retry_after(
    client: httpx.AsyncClient, api: Api, clock: FrozenClock
) -> None:
    await client.post(api.url("request_code"), json={"phone": "+79991234567"})
    clock.advance(15)
    r = await client.post(api.url("request_code"), json={"phone": "+79991234567"})
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "45"
    assert r.json()["code"] == "rate_limited" and "45 seconds" in r.json()["detail"]


async def test_sms_failure_is_503_and_no_cooldown(
    client: httpx.AsyncClient, api: Api, sms: RecordingSmsSender
) -> None:
    sms.fail = True
    r = await client.post(api.url("request_code"), json={"phone": "+79991234567"})
    assert r.status_code == 503
    assert r.json() == {
        "detail": "The SMS could not be sent. Try again later.",
        "code": "sms_unavailable",
    }
    assert "Retry-After" in r.headers
    sms.fail = False
    assert (
        await client.post(api.url("request_code"), json={"phone": "+79991234567"})
    ).status_code == 200


class TestClientCap:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"CLIENT_CODE_REQUESTS_PER_HOUR": 2}

    async def test_the_peer_address_is_the_client(self, app: Any, api: Api) -> None:
        for i in range(2):
            r = await api.client.post(api.url("request_code"), json={"phone": f"+7999123456{i}"})
            assert r.status_code == 200
        r = await api.client.post(api.url("request_code"), json={"phone": "+79991234569"})
        assert r.status_code == 429 and r.headers["Retry-After"] == "3600"
        # Another peer is another client.
        transport = httpx.ASGITransport(app=app, client=("198.51.100.1", 1))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as other:
            assert (
                await other.post("/user/veryfi/", json={"phone": "+79991234569"})
            ).status_code == 200

    async def test_forwarded_for_counts_only_from_trusted_proxies(self, app: Any) -> None:
        async def request(peer: str, forwarded: str, phone: str) -> int:
            transport = httpx.ASGITransport(app=app, client=(peer, 1))
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
                r = await c.post(
                    "/user/veryfi/", json={"phone": phone}, headers={"X-Forwarded-For": forwarded}
                )
                return r.status_code

        # An untrusted peer cannot dodge the cap by inventing X-Forwarded-For.
        assert await request("198.51.100.9", "1.1.1.1", "+79990000001") == 200
        assert await request("198.51.100.9", "2.2.2.2", "+79990000002") == 200
        assert await request("198.51.100.9", "3.3.3.3", "+79990000003") == 429
        # The trusted proxy (127.0.0.1) passes on the real client address.
        assert await request("127.0.0.1", "5.5.5.5", "+79990000004") == 200
        assert await request("127.0.0.1", "5.5.5.5", "+79990000005") == 200
        assert await request("127.0.0.1", "5.5.5.5", "+79990000006") == 429
        assert await request("127.0.0.1", "6.6.6.6", "+79990000006") == 200
