"""Typed dependencies: the shared services, the caller's identity and address."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

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
