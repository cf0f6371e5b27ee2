"""The composition root: one short function per process kind.

Each builds the services once (``core.container.build_services``) and hands them to the front
ends it runs; no front end builds services or starts another front end.

==========  ===============================================================================
``api``     the REST API (and, with ``WEBHOOK_URL``, the bot's webhook intake mounted on it)
``bot``     the Telegram bot: long polling, or registering the webhook the API serves
``worker``  the outbox (webhooks, Telegram messages) and the periodic jobs
``dev``     migrate, then the API, the worker and (with ``BOT_TOKEN``) the bot in one process
==========  ===============================================================================
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import signal
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import uvicorn

from core.container import build_services
from core.services import Services
from core.settings import ConfigError, Settings

if TYPE_CHECKING:
    from fastapi import FastAPI
    from starlette.types import Receive, Scope, Send

log = logging.getLogger(__name__)
T = TypeVar("T")

GRACEFUL_SHUTDOWN_SECONDS = 30


# ----- start-up checks: one line that names the setting, not a traceback -------------------------


def ensure_files_writable(settings: Settings) -> None:
    """The SQLite database's directory (and the ``file`` SMS backend's) must be writable.

    The default database is ``var/`` under the working directory, which a read-only checkout
    or container root does not allow.
    """
    from sqlalchemy.engine import make_url

    url = make_url(settings.db_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        default = "" if settings.database_url is not None else " (the default)"
        _ensure_writable_directory(
            Path(str(url.database)),
            f"the SQLite database {url.database}{default}",
            "set DATABASE_URL to a writable place, e.g. "
            "sqlite+aiosqlite:////abs/path/referral.sqlite3, or to PostgreSQL",
        )
    if settings.sms.backend == "file":
        _ensure_writable_directory(
            settings.sms.file,
            f"the SMS file {settings.sms.file}",
            "set SMS_FILE to a writable place",
        )


def _ensure_writable_directory(path: Path, subject: str, fix: str) -> None:
    directory = path.parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        problem = f"{exc.filename}: {exc.strerror}"
    else:
        if os.access(directory, os.W_OK | os.X_OK):
            return
        problem = f"{directory} is not writable"
    raise ConfigError(f"{subject} cannot be created ({problem}): {fix}")


def ensure_can_listen(host: str, port: int) -> None:
    """Bind ``host:port`` once, as uvicorn will, and say which setting to change if it fails."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise ConfigError(
            f"cannot listen on {host!r} ({exc.strerror}): set API_HOST (or --host)"
        ) from None
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            sock.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                problem = f"port {port} on {host} is already in use"
                fix = "stop what listens there, or set API_PORT (or --port) to a free port"
            elif exc.errno == errno.EACCES:
                problem = f"port {port} needs privileges"
                fix = "set API_PORT (or --port) to 1024 or above"
            elif exc.errno == errno.EADDRNOTAVAIL:
                problem = f"{host} is not an address of this machine"
                fix = "set API_HOST (or --host), e.g. 127.0.0.1 or 0.0.0.0"
            else:
                problem = f"cannot listen on {host}:{port} ({exc.strerror})"
                fix = "set API_HOST and API_PORT (or --host and --port)"
            raise ConfigError(f"{problem}: {fix}") from None


# ----- api ------------------------------------------------------------------------------------


@asynccontextmanager
async def api_app(settings: Settings, services: Services) -> AsyncIterator[FastAPI]:
    """The API over ``services``; in webhook mode with the bot's intake mounted and running."""
    from core.api.app import create_app

    app = create_app(settings, services)
    async with AsyncExitStack() as stack:
        if settings.webhook_url and settings.bot_token is not None:
            from bot.webhook import mount_webhook, webhook_intake

            intake = await stack.enter_async_context(webhook_intake(settings, services))
            mount_webhook(app, intake, settings.webhook_url)
        yield app


def api(settings: Settings, *, host: str | None, port: int | None, workers: int | None) -> int:
    """``referral api``: uvicorn, with N worker processes when asked.

    Workers are separate processes, each building its own services from the environment (the
    same settings this process read); the core's rules hold across them because they live in
    the database's transactions, not in memory.
    """
    settings.ensure_can_start()
    ensure_files_writable(settings)
    ensure_can_listen(host or settings.api_host, port or settings.api_port)
    exit_zero_after_graceful_shutdown()
    count = workers or settings.api_workers
    if count > 1:
        uvicorn.run(
            "core.runtime:api_worker_app", workers=count, **_uvicorn_options(settings, host, port)
        )
        return 0
    return asyncio.run(_serve_api(settings, host, port))


async def _serve_api(settings: Settings, host: str | None, port: int | None) -> int:
    async with build_services(settings) as services, api_app(settings, services) as app:
        await _server(settings, app, host, port).serve()
    return 0


def api_worker_app() -> ProcessApp:
    """The factory each uvicorn worker process calls: settings from the environment."""
    from core.logging import configure_logging

    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    return ProcessApp(settings)


class ProcessApp:
    """An ASGI app that builds the services and the API at lifespan start-up, in the worker
    process that serves it, and closes them at shutdown."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._app: FastAPI | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        assert self._app is not None, "the lifespan has not started"
        await self._app(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        async with AsyncExitStack() as stack:
            await receive()  # lifespan.startup
            try:
                services = await stack.enter_async_context(build_services(self._settings))
                self._app = await stack.enter_async_context(api_app(self._settings, services))
            except Exception as exc:
                log.exception("the API could not start")
                await send({"type": "lifespan.startup.failed", "message": str(exc)})
                return
            await send({"type": "lifespan.startup.complete"})
            await receive()  # lifespan.shutdown
        await send({"type": "lifespan.shutdown.complete"})


def _uvicorn_options(settings: Settings, host: str | None, port: int | None) -> dict[str, Any]:
    return {
        "host": host or settings.api_host,
        "port": port or settings.api_port,
        "factory": True,
        "proxy_headers": False,  # ProxyHeadersMiddleware in create_app applies FORWARDED_ALLOW_IPS
        "server_header": False,
        "access_log": False,  # RequestLogMiddleware writes one line per request
        "log_config": None,
        "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_SECONDS,
    }


def _server(settings: Settings, app: FastAPI, host: str | None, port: int | None) -> uvicorn.Server:
    options = _uvicorn_options(settings, host, port)
    options["factory"] = False
    return uvicorn.Server(uvicorn.Config(app, **options))


def exit_zero_after_graceful_shutdown() -> None:
    """A stop asked for by SIGTERM or SIGINT is a clean exit (status 0), not a kill.

    uvicorn handles both signals itself (stop accepting, finish in-flight requests within
    ``GRACEFUL_SHUTDOWN_SECONDS``, then the services are closed), and re-raises the signal to
    the handler it found installed. That handler is this no-op, so the process returns
    normally after the graceful shutdown instead of dying of the signal.
    """
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, frame: None)


# ----- bot ------------------------------------------------------------------------------------


def bot(settings: Settings) -> int:
    """``referral bot``: 2 when the bot cannot start as configured, else as ``run_bot``."""
    ensure_files_writable(settings)
    return asyncio.run(serve_bot(settings))


async def serve_bot(settings: Settings) -> int:
    from bot.runner import run_bot, start_problem

    problem = start_problem(settings)
    if problem is not None:
        logging.getLogger("bot.runner").error("%s", problem)
        return 2
    async with build_services(settings) as services:
        return await run_bot(settings, services)


# ----- worker ---------------------------------------------------------------------------------


@asynccontextmanager
async def worker_services(settings: Settings) -> AsyncIterator[Services]:
    """The services with the bot's sender for the worker's Telegram messages (with BOT_TOKEN)."""
    async with AsyncExitStack() as stack:
        telegram = None
        if settings.bot_token is not None:
            from bot.app import create_bot
            from bot.notifier import TelegramNotifier

            bot = create_bot(settings, wait_out_flood=False)
            stack.push_async_callback(bot.session.close)
            telegram = TelegramNotifier(bot)
        yield await stack.enter_async_context(build_services(settings, telegram=telegram))


def worker(settings: Settings, *, once: bool = False) -> int:
    """``referral worker``: deliver the outbox and run the periodic jobs until SIGTERM/SIGINT."""
    settings.ensure_can_start()
    ensure_files_writable(settings)
    return asyncio.run(serve_worker(settings, once=once))


async def serve_worker(
    settings: Settings, *, once: bool = False, stop: asyncio.Event | None = None
) -> int:
    from core.worker.runner import Worker

    async with worker_services(settings) as services:
        runner = Worker(services)
        if once:
            await runner.run_once()
            return 0
        stop = stop or _stop_on_signals()
        await runner.run(stop)
    return 0


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


# ----- one-off commands ---------------------------------------------------------------------


def once(settings: Settings, job: Callable[[Services], Awaitable[T]]) -> T:
    """Build the services, run one use case (``referral apikey ...``), close them."""

    async def main() -> T:
        async with build_services(settings) as services:
            return await job(services)

    return asyncio.run(main())


# ----- dev ------------------------------------------------------------------------------------


def dev(settings: Settings, *, host: str | None, port: int | None) -> int:
    """``referral dev`` (``make run``): migrate, then one event loop and one set of services
    for the API, the worker and the bot."""
    from db.migrate import upgrade

    ensure_files_writable(settings)
    ensure_can_listen(host or settings.api_host, port or settings.api_port)
    upgrade(settings.db_url)
    exit_zero_after_graceful_shutdown()
    return asyncio.run(_serve_dev(settings, host, port))


async def _serve_dev(settings: Settings, host: str | None, port: int | None) -> int:
    from core.worker.runner import Worker

    async with worker_services(settings) as services, api_app(settings, services) as app:
        server = _server(settings, app, host, port)
        stop = asyncio.Event()
        tasks = [asyncio.create_task(Worker(services).run(stop))]
        if settings.bot_token is None:
            log.info("the Telegram bot is off: set BOT_TOKEN to start it beside the API")
        else:
            from bot.runner import run_polling

            tasks.append(asyncio.create_task(run_polling(settings, services, handle_signals=False)))
        try:
            await server.serve()
        finally:
            stop.set()
            for task in tasks[1:]:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
    return 0
