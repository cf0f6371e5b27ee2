"""Schemathesis over the whole API, in-process, from the app's own schema, every default check."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.python import asgi as schemathesis_asgi

from core.runtime import ProcessApp
from core.settings import Settings
from tests.conftest import TEST_SECRET, migrate


def build_settings() -> Settings:
    """Settings that let one test client sign up as often as the examples need.

    Schemathesis (pytest 9) needs the schema when the module is collected, so the app is built
    at import; nothing touches the disk until the first test runs and ``auth_headers`` migrates.
    """
    tmp = Path(tempfile.mkdtemp(prefix="schemathesis-"))
    app_settings = Settings(
        _env_file=None,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp / 'api.sqlite3'}",
        SECRET_KEY=TEST_SECRET,
        SMS_BACKEND="file",
        SMS_FILE=str(tmp / "sms.jsonl"),
        CLIENT_CODE_REQUESTS_PER_HOUR=100000,
        PREFIX_NUMBERS_PER_HOUR=100000,
        OTP_RESEND_SECONDS=0,
        OTP_SENDS_PER_HOUR=100000,
        OTP_SENDS_PER_DAY=100000,
    )
    return app_settings


SETTINGS = build_settings()
#: Built the way each ``referral api --workers N`` process builds it: the services at lifespan
#: start-up (schemathesis starts the lifespan when it loads the schema).
APP = ProcessApp(SETTINGS)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module")
def auth_headers() -> Iterator[dict[str, str]]:
    migrate(SETTINGS.db_url)
    with schemathesis_asgi.get_client(APP) as client:  # type: ignore[arg-type]
        r = client.post("http://localhost/user/veryfi/", json={"phone": "+79990001122"})
        assert r.status_code == 200, r.text
        last = SETTINGS.sms_file.read_text().strip().splitlines()[-1]
        code = json.loads(last)["text"].split()[-1]
        r = client.post(
            "http://localhost/user/auth/", json={"phone": "+79990001122", "otp_code": code}
        )
        assert r.status_code == 200, r.text
        yield {"Authorization": f"Bearer {r.json()['access_token']}"}


@schema.parametrize()
@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case: Any, auth_headers: dict[str, str]) -> None:
    case.call_and_validate(headers=auth_headers)
