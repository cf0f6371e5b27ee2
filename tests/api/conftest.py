from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI

from core.api.app import create_app
from core.services import Services
from core.settings import Settings
from tests.fakes.sms import RecordingSmsSender


@pytest.fixture
def app(settings: Settings, services: Services) -> FastAPI:
    return create_app(settings, services)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@dataclass
class Account:
    id: int
    phone: str
    invite_code: str
    access: str
    refresh: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}


class Api:
    """The contract's requests, spelled the way an integrator sends them."""

    def __init__(self, client: httpx.AsyncClient, app: FastAPI, sms: RecordingSmsSender) -> None:
        self.client, self.app, self.sms = client, app, sms

    def url(self, name: str, **params: object) -> str:
        return self.app.url_path_for(name, **params)

    async def sign_up(self, phone: str, referral_code: str | None = None) -> Account:
        r = await self.client.post(self.url("request_code"), json={"phone": phone})
        assert r.status_code == 200, r.text
        body: dict[str, str] = {"phone": phone, "otp_code": self.sms.last_code()}
        if referral_code:
            body["referral_code"] = referral_code
        r = await self.client.post(self.url("login"), json=body)
        assert r.status_code == 200, r.text
        tokens = r.json()
        me = await self.client.get(
            self.url("get_me"), headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
        assert me.status_code == 200, me.text
        return Account(
            id=me.json()["id"],
            phone=phone,
            invite_code=me.json()["referral_code"],
            access=tokens["access_token"],
            refresh=tokens["refresh_token"],
        )


@pytest.fixture
def api(client: httpx.AsyncClient, app: FastAPI, sms: RecordingSmsSender) -> Api:
    return Api(client, app, sms)


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """API tests sign many people up from one test client address."""
    return {"CLIENT_CODE_REQUESTS_PER_HOUR": 1000}
