"""``create_app``: the FastAPI application, built from settings and (optionally) ready services."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from core.api.errors import install_error_handlers
from core.api.middleware import BodySizeLimitMiddleware, RequestLogMiddleware
from core.api.routes import auth, health, users
from core.api.routes import telegram as telegram_routes
from core.services import Services
from core.settings import Settings

if TYPE_CHECKING:
    from bot.webhook import WebhookIntake

DESCRIPTION = """
Phone login with a one-time SMS code, personal invite codes and referrals.

1. `POST /user/veryfi/` with a phone sends a 4-digit code by SMS.
2. `POST /user/auth/` with the phone and the code returns a JWT pair (the first login creates
   the account and its invite code).
3. Send `Authorization: Bearer <access_token>` to the `/users/...` operations.

Every error answers `{"detail": "...", "code": "..."}` (plus `errors` for 422).
"""


def create_app(
    settings: Settings, services: Services | None = None, *, telegram: WebhookIntake | None = None
) -> FastAPI:
    """The API over ``services``; without them, the app builds its own for its lifetime.

    With ``WEBHOOK_URL`` the app also serves Telegram's webhook and runs the bot's intake
    (built at start-up unless ``telegram`` is given).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            if services is None:
                from core.container import build_services

                app.state.services = await stack.enter_async_context(build_services(settings))
            if settings.webhook_url and settings.bot_token and app.state.telegram is None:
                from bot.webhook import webhook_intake

                app.state.telegram = await stack.enter_async_context(
                    webhook_intake(settings, app.state.services)
                )
            yield

    app = FastAPIOffline(
        title="Referral service",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        redirect_slashes=True,
    )
    if services is not None:
        app.state.services = services
    app.state.telegram = telegram
    install_error_handlers(app)
    for router in (auth.router, users.router, health.router):
        app.include_router(router)
    if settings.webhook_url:
        app.include_router(telegram_routes.build_router(urlsplit(settings.webhook_url).path or "/"))
    app.state.api_routes = [
        r for router in (auth.router, users.router, health.router) for r in router.routes
    ]

    def observe(route: str, method: str, status: int, seconds: float) -> None:
        built = getattr(app.state, "services", None)
        observer = getattr(built.metrics, "observe_request", None) if built else None
        if observer is not None:
            observer(route, method, status, seconds)

    app.add_middleware(RequestLogMiddleware, observe=observe)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.forwarded_allow_ips)
    return app
