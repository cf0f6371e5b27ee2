"""The one translation of domain errors (and framework errors) into HTTP answers.

Every error body has one shape: ``{"detail": "...", "code": "..."}``, plus ``errors`` (the
failing fields) for 422. No route raises ``HTTPException``.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.api.schemas import ErrorOut, ValidationErrorOut
from core.domain.errors import (
    ApiKeyInvalid,
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    RateLimited,
    Unauthorized,
    Unavailable,
)

log = logging.getLogger(__name__)

STATUS_BY_CATEGORY: dict[type[DomainError], int] = {
    InvalidInput: 422,
    NotFound: 404,
    Conflict: 409,
    Unauthorized: 401,
    Forbidden: 403,
    RateLimited: 429,
    Unavailable: 503,
}
_HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "body_too_large",
    415: "unsupported_media_type",
}
UNAVAILABLE_RETRY_AFTER = 60


def status_for(exc: DomainError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS_BY_CATEGORY:
            return STATUS_BY_CATEGORY[cls]
    return 400


def error_response(
    status: int, detail: str, code: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    return JSONResponse(
        {"detail": detail, "code": code, **extra}, status_code=status, headers=headers
    )


async def on_domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    status = status_for(exc)
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = "ApiKey" if isinstance(exc, ApiKeyInvalid) else "Bearer"
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    elif status == 503:
        headers["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER)
    if status == 422:
        fields = (
            [{"field": exc.field, "message": exc.message, "type": exc.code}] if exc.field else []
        )
        return error_response(status, exc.message, exc.code, headers, errors=fields)
    return error_response(status, exc.message, exc.code, headers)


async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = []
    for err in exc.errors():
        loc = [str(part) for part in err.get("loc", ()) if part != "body"]
        errors.append(
            {
                "field": ".".join(loc) or "body",
                "message": str(err.get("msg", "")),
                "type": err["type"],
            }
        )
    if any(e["type"] == "json_invalid" for e in errors):
        detail = "The body is not valid JSON."
    elif errors:
        first = errors[0]
        detail = f"{first['field']}: {first['message']}"
    else:
        detail = "The request is not valid."
    return error_response(422, detail, "validation_error", errors=errors)


async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:
        # FastAPI's "error parsing the body" (bytes that are not text, for one): bad input.
        detail = "The body could not be read as JSON text."
        return error_response(
            422,
            detail,
            "validation_error",
            errors=[{"field": "body", "message": detail, "type": "body_unreadable"}],
        )
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    detail = exc.detail if isinstance(exc.detail, str) else "Request refused."
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(sorted(_allowed_methods(request)))
    return error_response(exc.status_code, detail, code, headers)


def _allowed_methods(request: Request) -> set[str]:
    """Every method any route serves at this path (Starlette names only the first route's)."""
    methods: set[str] = set()
    for route in getattr(request.app.state, "api_routes", ()):
        if route.path_regex.match(request.url.path):
            methods |= route.methods
    return methods


async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(500, "Internal error. It has been logged.", "internal_error")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, on_domain_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI documentation of the error answers an operation can give."""
    descriptions = {
        401: "Missing, invalid or expired credentials or code (`WWW-Authenticate: Bearer`).",
        403: "The API key lacks the scope this operation needs.",
        404: "Not found (or not yours).",
        409: "Conflicts with the current state.",
        413: "The body is larger than 64 KB.",
        422: "Malformed input; `errors` lists the failing fields.",
        429: "Too many requests; `Retry-After` says how many seconds to wait.",
        503: "A dependency (the SMS gateway, the daily SMS budget) cannot serve now; retry later.",
    }
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        model = ValidationErrorOut if status == 422 else ErrorOut
        entry: dict[str, Any] = {"model": model, "description": descriptions[status]}
        if status in (429, 503):
            entry["headers"] = {
                "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}
            }
        if status == 401:
            entry["headers"] = {
                "WWW-Authenticate": {
                    "description": "Always `Bearer`.",
                    "schema": {"type": "string"},
                }
            }
        out[status] = entry
    return out
