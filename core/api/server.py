"""Serving the API with uvicorn."""

from __future__ import annotations

import logging

import uvicorn
from fastapi import FastAPI

from core.settings import Settings

log = logging.getLogger(__name__)

GRACEFUL_SHUTDOWN_SECONDS = 30


def app_from_env() -> FastAPI:
    """The factory each uvicorn worker process calls: settings from the environment."""
    from core.api.app import create_app
    from core.logging import configure_logging

    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings)


def _config(
    settings: Settings, app: FastAPI | str, host: str | None, port: int | None
) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host or settings.api_host,
        port=port or settings.api_port,
        proxy_headers=False,  # ProxyHeadersMiddleware in create_app applies FORWARDED_ALLOW_IPS
        server_header=False,
        access_log=False,  # RequestLogMiddleware writes one line per request
        log_config=None,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        factory=isinstance(app, str),
    )


def serve(settings: Settings, *, host: str | None, port: int | None, workers: int | None) -> int:
    """``referral api``: uvicorn, with N worker processes when asked.

    Workers are separate processes, each building its own services from the environment
    (the same settings this process read); the core's rules hold across them because they
    live in the database's transactions, not in memory.
    """
    settings.ensure_can_start()
    count = workers or settings.api_workers
    if count > 1:
        config = _config(settings, "core.api.server:app_from_env", host, port)
        uvicorn.run(
            config.app,
            host=config.host,
            port=config.port,
            factory=True,
            workers=count,
            proxy_headers=False,
            server_header=False,
            access_log=False,
            log_config=None,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        )
        return 0
    from core.api.app import create_app

    uvicorn.Server(_config(settings, create_app(settings), host, port)).run()
    return 0


async def serve_dev(settings: Settings, *, host: str | None, port: int | None) -> int:
    """``referral dev``: serve the API on one set of services (the CLI migrates first)."""
    from core.api.app import create_app
    from core.container import build_services

    async with build_services(settings) as services:
        server = uvicorn.Server(_config(settings, create_app(settings, services), host, port))
        await server.serve()
    return 0
