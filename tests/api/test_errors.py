"""Bad input of every kind: one JSON error shape, never a 500."""

from collections.abc import AsyncIterator

import pytest

from tests.api.conftest import Api


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"[]", "application/json"),
        (b'"phone"', "application/json"),
        (b"null", "application/json"),
        (b"\xff\xfe", "application/json"),
        (b"phone=+79991234567", "application/x-www-form-urlencoded"),
        (b"", "application/json"),
    ],
)
async def test_malformed_bodies_are_422_in_the_error_shape(
    api: Api, content: bytes, content_type: str
) -> None:
    r = await api.client.post(
        api.url("request_code"), content=content, headers={"Content-Type": content_type}
    )
    assert r.status_code == 422
    body = r.json()
    assert set(body) == {"detail", "code", "errors"} and body["code"] == "validation_error"
    assert api.sms.sent == []


async def test_json_syntax_error_says_so(api: Api) -> None:
    r = await api.client.post(
        api.url("request_code"), content=b"{", headers={"Content-Type": "application/json"}
    )
    assert r.json()["detail"] == "The body is not valid JSON."


async def test_body_over_64_kb_is_413(api: Api) -> None:
    big = b'{"phone": "' + b"1" * 70_000 + b'"}'
    r = await api.client.post(
        api.url("request_code"), content=big, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 413 and r.json()["code"] == "body_too_large"


async def test_streamed_body_over_the_limit_is_413(api: Api) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b" " * 8192

    r = await api.client.post(
        api.url("request_code"), content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 413


async def test_validation_errors_name_the_field(api: Api) -> None:
    r = await api.client.post(api.url("login"), json={"phone": "+79991234567", "otp_code": 1234})
    body = r.json()
    assert body["errors"][0]["field"] == "otp_code"
    assert body["detail"].startswith("otp_code: ")
