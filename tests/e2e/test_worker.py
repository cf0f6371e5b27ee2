"""``referral worker`` as a real process on PostgreSQL: killed mid-delivery, it loses nothing."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from aiohttp import web

from core.container import build_services
from tests.conftest import ROOT, TEST_SECRET, make_settings
from tests.e2e.processes import service_env
from tests.fakes.local_server import listen
from tests.fakes.sms import RecordingSmsSender

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

LEASE_SECONDS = 15


class SlowThenFast:
    """An endpoint that holds its first request (the worker dies meanwhile), then answers."""

    def __init__(self) -> None:
        self.arrivals: list[str] = []
        self.answered: list[str] = []
        self.first_arrived = asyncio.Event()
        self.answered_event = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        event_id = request.headers["webhook-id"]
        await request.read()
        self.arrivals.append(event_id)
        if len(self.arrivals) == 1:
            self.first_arrived.set()
            await asyncio.sleep(3600)  # never answers: the worker is killed while it waits
        self.answered.append(event_id)
        self.answered_event.set()
        return web.Response(text="ok")


@pytest.fixture
async def endpoint() -> AsyncIterator[tuple[SlowThenFast, str]]:
    receiver = SlowThenFast()
    app = web.Application()
    app.router.add_post("/hooks", receiver.handle)
    runner, port = await listen(app, "127.0.0.1", 0, backlog=16, handler_cancellation=True)
    try:
        yield receiver, f"http://127.0.0.1:{port}/hooks"
    finally:
        await runner.cleanup()


async def start_worker(postgres_url: str) -> asyncio.subprocess.Process:
    env = service_env(
        DATABASE_URL=postgres_url,
        SECRET_KEY=TEST_SECRET,
        SMS_BACKEND="console",
        WORKER_LEASE_SECONDS=str(LEASE_SECONDS),
        LOG_LEVEL="WARNING",
    )
    env.pop("BOT_TOKEN", None)
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "core",
        "worker",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def test_a_worker_killed_mid_delivery_loses_nothing(
    postgres_url: str, endpoint: tuple[SlowThenFast, str]
) -> None:
    receiver, url = endpoint
    settings = make_settings(postgres_url)
    sms = RecordingSmsSender()
    async with build_services(settings, sms=sms) as services:
        await services.webhooks.create(url, ["user.created"])
        await services.auth.request_code("+79990000002", "ip:2")
        await services.auth.login("+79990000002", sms.last_code())
    first = await start_worker(postgres_url)
    try:
        await asyncio.wait_for(receiver.first_arrived.wait(), 30)
        first.send_signal(signal.SIGKILL)  # in the middle of the delivery
        await first.wait()
        assert receiver.answered == []
        started = datetime.now(UTC)
        second = await start_worker(postgres_url)
        try:
            await asyncio.wait_for(receiver.answered_event.wait(), LEASE_SECONDS + 30)
        finally:
            second.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(second.wait(), 30) == 0
        waited = (datetime.now(UTC) - started).total_seconds()
    finally:
        if first.returncode is None:
            first.kill()
    assert receiver.answered == receiver.arrivals[:1]  # the same event, the same webhook-id
    assert waited >= LEASE_SECONDS - 2  # the dead worker's lease had to expire first
    async with build_services(settings) as services:
        [endpoint_row] = await services.webhooks.list()
        page = await services.webhooks.deliveries(endpoint_row.id)
    [delivery] = page.items
    assert delivery.status == "delivered" and delivery.event_uid == receiver.arrivals[0]
    assert [a.status_code for a in delivery.log] == [200]
