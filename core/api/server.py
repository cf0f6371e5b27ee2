"""Serving the API with uvicorn, alone or beside the bot in one process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

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
    exit_zero_after_graceful_shutdown()
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


def exit_zero_after_graceful_shutdown() -> None:
    """A stop asked for by SIGTERM or SIGINT is a clean exit (status 0), not a kill.

    uvicorn handles both signals itself (stop accepting, finish in-flight requests within
    ``GRACEFUL_SHUTDOWN_SECONDS``, run the lifespan shutdown that closes the pools), then
    re-raises the signal to the handler it found installed. That handler is this no-op, so the
    process returns normally after the graceful shutdown instead of dying of the signal.
    """
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, frame: None)


async def serve_dev(settings: Settings, *, host: str | None, port: int | None) -> int:
    """``referral dev``: one event loop and one set of services for the API and the bot."""
    from core.api.app import create_app
    from core.container import build_services

    exit_zero_after_graceful_shutdown()
    async with build_services(settings) as services:
        app = create_app(settings, services)
        server = uvicorn.Server(_config(settings, app, host, port))
        if settings.bot_token is None:
            log.info("the Telegram bot is off: set BOT_TOKEN to start it beside the API")
            await server.serve()
            return 0
        from bot.runner import run_polling

        bot_task = asyncio.create_task(run_polling(settings, services, handle_signals=False))
        try:
            await server.serve()
        finally:
            bot_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await bot_task
    return 0
