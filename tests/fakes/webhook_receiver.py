"""A local integrator's endpoint: records every webhook it gets and answers as told.

It can answer with a queue of statuses (``answers``), be slow (``delay``), go down and come
back on the same port (``stop()`` then ``start()``), and tells how many deliveries of one
event were in flight at once.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.fakes.local_server import LocalServer, listen


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    #: What this receiver answered.
    status: int

    @property
    def event_id(self) -> str:
        return self.headers["webhook-id"]

    def json(self) -> Any:
        return json.loads(self.body)


class WebhookReceiver(LocalServer):
    def __init__(self, *, path: str = "/hooks", port: int = 0) -> None:
        self.path = path
        self.port = port
        self.received: list[Received] = []
        self.answers: deque[int] = deque()
        self.delay = 0.0
        self._in_flight: dict[str, int] = {}
        self.max_in_flight: dict[str, int] = {}
        self._runner: web.AppRunner | None = None
        self.arrived = asyncio.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post(self.path, self._handle)
        self._runner, self.port = await listen(app, "127.0.0.1", self.port, backlog=128)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def delivered(self) -> list[Received]:
        """What was answered 2xx, in order."""
        return [r for r in self.received if 200 <= r.status < 300]

    async def _handle(self, request: web.Request) -> web.Response:
        event_id = request.headers.get("webhook-id", "")
        self._in_flight[event_id] = self._in_flight.get(event_id, 0) + 1
        self.max_in_flight[event_id] = max(
            self.max_in_flight.get(event_id, 0), self._in_flight[event_id]
        )
        try:
            body = await request.read()
            if self.delay:
                await asyncio.sleep(self.delay)
            status = self.answers.popleft() if self.answers else 200
            headers = {k.lower(): v for k, v in request.headers.items()}
            self.received.append(Received(headers, body, status))
            self.arrived.set()
            return web.json_response({"status": status}, status=status)
        finally:
            self._in_flight[event_id] -= 1
