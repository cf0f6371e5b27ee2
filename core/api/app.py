"""``create_app``: the FastAPI application over the services the composition root built."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from core.api.errors import install_error_handlers
from core.api.middleware import BodySizeLimitMiddleware, RequestLogMiddleware
from core.api.routes import admin, admin_webhooks, auth, growth, health, program, users
from core.services import Services
from core.settings import Settings

DESCRIPTION = """
Phone login with a one-time SMS code, personal invite codes and referrals.

1. `POST /user/veryfi/` with a phone sends a 4-digit code by SMS.
2. `POST /user/auth/` with the phone and the code returns a JWT pair (the first login creates
   the account and its invite code).
3. Send `Authorization: Bearer <access_token>` to the `/users/...` operations.

Every error answers `{"detail": "...", "code": "..."}` (plus `errors` for 422).
"""


def create_app(settings: Settings, services: Services) -> FastAPI:
    """The REST API over services that are already built (``core.runtime`` builds them)."""
    app = FastAPIOffline(
        title="Referral service",
        version="1.0.0",
        description=DESCRIPTION,
        redirect_slashes=True,
    )
    app.state.services = services
    install_error_handlers(app)
    routers = (
        auth.router,
        users.router,
        program.router,
        growth.router,
        admin.router,
        admin_webhooks.router,
        health.router,
    )
    for router in routers:
        app.include_router(router)
    app.state.api_routes = [r for router in routers for r in router.routes]
    app.add_middleware(RequestLogMiddleware, observe=services.metrics.observe_request)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.forwarded_allow_ips)
    return app
