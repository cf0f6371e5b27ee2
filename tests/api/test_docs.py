"""Swagger UI, ReDoc and the OpenAPI document: complete, and served without any CDN."""

import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

CONTRACT_OPERATIONS = {
    ("/user/veryfi/", "post"): {422, 429, 503},
    ("/user/auth/", "post"): {401, 404, 409, 422, 429},
    ("/users/{id}/", "get"): {401, 404, 422},
    ("/users/refer/", "post"): {401, 404, 409, 422},
}


@pytest.fixture
async def openapi(client: httpx.AsyncClient) -> dict[str, Any]:
    r = await client.get("/openapi.json")
    assert r.status_code == 200
    return dict(r.json())


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_doc_pages_load_their_assets_from_this_server(
    client: httpx.AsyncClient, page: str
) -> None:
    r = await client.get(page)
    assert r.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', r.text)
    scripts = [a for a in assets if a.endswith((".js", ".css"))]
    assert scripts, r.text
    for asset in assets:
        assert asset.startswith("/"), f"{page} loads {asset} from elsewhere"
        assert (await client.get(asset)).status_code == 200, asset
    assert "cdn" not in r.text.lower()


async def test_every_operation_is_documented(openapi: dict[str, Any]) -> None:
    for path, item in openapi["paths"].items():
        for method, operation in item.items():
            assert operation.get("summary"), f"{method} {path} has no summary"


async def test_contract_operations_list_their_errors_and_examples(openapi: dict[str, Any]) -> None:
    for (path, method), statuses in CONTRACT_OPERATIONS.items():
        operation = openapi["paths"][path][method]
        documented = {int(s) for s in operation["responses"] if s.isdigit()}
        assert statuses <= documented, (path, documented)
    schemas = openapi["components"]["schemas"]
    assert schemas["PhoneIn"]["examples"] == [{"phone": "+79999999999"}]
    assert schemas["ReferIn"]["examples"] == [{"referral_code": "jqpQZf"}]
    assert schemas["MessageOut"]["properties"]["message"]["examples"] == [
        "Code created successfully"
    ]
    assert "referral_list" in schemas["UserOut"]["examples"][0]
    assert schemas["TokenPairOut"]["examples"][0]["access_token"] == "access_token"
    assert schemas["LoginIn"]["examples"] == [{"phone": "+79999999999", "otp_code": "1234"}]


def test_routes_are_addressed_by_name(app: FastAPI) -> None:
    assert app.url_path_for("request_code") == "/user/veryfi/"
    assert app.url_path_for("get_user", id="7") == "/users/7/"
