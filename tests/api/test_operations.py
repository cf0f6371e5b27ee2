"""Health, readiness (database and Redis) and Prometheus metrics."""

from typing import Any

import pytest

from tests.api.conftest import Api
from tests.conftest import REDIS_URL
from tests.e2e.processes import free_port


async def test_metrics_count_requests_codes_and_logins(api: Api) -> None:
    await api.sign_up("+79990000001")
    await api.client.post(api.url("login"), json={"phone": "+79990000001", "otp_code": "0000"})
    r = await api.client.get(api.url("metrics"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    request_code = 'referral_http_requests_total{method="POST",route="/user/veryfi/",status="200"}'
    assert f"{request_code} 1.0" in text
    assert "referral_codes_sent_total 1.0" in text
    assert 'referral_logins_total{created="true"} 1.0' in text
    assert "referral_login_failures_total 1.0" in text
    assert 'duration_seconds_bucket{le="0.001",method="POST",route="/user/auth/"}' in text
    # No phone, code or token ever becomes part of a metric.
    assert "+7999" not in text and "Bearer" not in text


class TestWithRedis:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"REDIS_URL": REDIS_URL}

    async def test_ready_when_database_and_redis_answer(self, api: Api) -> None:
        assert (await api.client.get(api.url("readyz"))).json() == {"status": "ok"}


class TestRedisDown:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}

    async def test_not_ready_when_redis_does_not_answer(self, api: Api) -> None:
        r = await api.client.get(api.url("readyz"))
        assert r.status_code == 503 and r.json()["code"] == "not_ready"
        assert (await api.client.get(api.url("healthz"))).status_code == 200
