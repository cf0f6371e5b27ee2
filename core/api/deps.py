"""Typed dependencies: the shared services, the caller's identity and address."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from core.domain.entities import ApiKey
from core.domain.errors import TokenInvalid
from core.services import Services

_bearer = HTTPBearer(auto_error=False, description="The access_token from /user/auth/.")


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_current_user_id(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> int:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise TokenInvalid("Send the access token as `Authorization: Bearer <token>`.")
    return services.tokens.authenticate(credentials.credentials)


CurrentUserId = Annotated[int, Depends(get_current_user_id)]

_api_key = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="An integrator's key from `referral apikey create` (never a user's JWT).",
)


def api_key_with(scope: str) -> Callable[..., Awaitable[ApiKey]]:
    """A dependency: the caller's live API key, which must carry ``scope`` (401, else 403)."""

    async def authenticated(
        services: ServicesDep, key: Annotated[str | None, Depends(_api_key)]
    ) -> ApiKey:
        return await services.api_keys.authenticate(key, scope)

    return authenticated


EventsKey = Annotated[ApiKey, Depends(api_key_with("events:write"))]
UsersReadKey = Annotated[ApiKey, Depends(api_key_with("users:read"))]
AdminKey = Annotated[ApiKey, Depends(api_key_with("admin"))]


async def get_admin_actor(key: AdminKey) -> str:
    """Who acts, for the audit log: ``key:<id>`` for an API key."""
    return f"key:{key.id}"


AdminActor = Annotated[str, Depends(get_admin_actor)]


async def get_client(request: Request) -> str:
    """The caller for the per-client limits: the peer address, or the trusted proxy's client."""
    host = request.client.host if request.client else "unknown"
    return f"ip:{host}"


Client = Annotated[str, Depends(get_client)]


async def get_language(request: Request) -> str | None:
    """The first language of ``Accept-Language``, for the SMS text."""
    header = request.headers.get("accept-language", "")
    first = header.split(",")[0].split(";")[0].strip()
    return first or None


Language = Annotated[str | None, Depends(get_language)]
