"""What the local fake servers share: an aiohttp app on a bound socket, ``async with``, and the
standalone run that lasts until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import socket
import ssl
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable
from types import TracebackType
from typing import Self

from aiohttp import web


async def listen(
    app: web.Application,
    host: str,
    port: int,
    *,
    backlog: int,
    ssl_context: ssl.SSLContext | None = None,
    handler_cancellation: bool = False,
) -> tuple[web.AppRunner, int]:
    """Serve ``app`` on ``host:port`` (``0``: a free port); return its runner and the port."""
    runner = web.AppRunner(
        app, access_log=None, handler_cancellation=handler_cancellation, shutdown_timeout=1.0
    )
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        bound: int = sock.getsockname()[1]
        site = web.SockSite(runner, sock, ssl_context=ssl_context, backlog=backlog)
        await site.start()
    except BaseException:
        sock.close()
        await runner.cleanup()
        raise
    return runner, bound


class LocalServer(ABC):
    """A server with ``start()`` and ``stop()``, used as ``async with server: ...``."""

    @abstractmethod
    async def start(self) -> None: ...

    @abstractmethod
    async def stop(self) -> None: ...

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


async def run_until_signalled(server: LocalServer, banner: Callable[[], str]) -> None:
    """Run ``server`` until SIGINT or SIGTERM; print ``banner()`` once it listens."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        sys.stdout.write(f"{banner()}\n")
        sys.stdout.flush()
        await stop.wait()
