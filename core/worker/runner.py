"""The worker's loops: the outbox (dispatch and webhooks), Telegram, and periodic jobs.

Each loop survives its own failures: an error is logged once (then once more when the loop
works again), and the loop waits a moment and carries on. Several workers may run at once
against PostgreSQL; on SQLite, run one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from core.services import Services

log = logging.getLogger(__name__)

IDLE_SECONDS = 0.5
TELEGRAM_IDLE_SECONDS = 0.25
ERROR_PAUSE_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class PeriodicJob:
    name: str
    every_seconds: float
    run: Callable[[], Awaitable[object]]


def default_jobs(services: Services) -> list[PeriodicJob]:
    """The jobs every worker runs: held rewards becoming available, contests that ended,
    the outbox-lag gauge."""
    return [
        PeriodicJob("rewards becoming available", 10, services.ledger.release_due),
        PeriodicJob("contests that ended", 30, services.leaderboard.close_due),
        PeriodicJob("outbox lag", 15, services.delivery.lag),
    ]


class Worker:
    def __init__(self, services: Services, jobs: Sequence[PeriodicJob] | None = None) -> None:
        self.services = services
        self.jobs = list(jobs) if jobs is not None else default_jobs(services)
        self._failing: set[str] = set()

    async def run_once(self) -> int:
        """One round of everything (tests, and ``referral worker --once``): how much was done."""
        delivery = self.services.delivery
        done = await delivery.dispatch()
        done += await delivery.deliver_webhooks()
        done += await delivery.send_telegram()
        for job in self.jobs:
            await job.run()
        return done

    async def run(self, stop: asyncio.Event) -> None:
        """Until ``stop`` is set; work in hand is finished first."""
        log.info("worker %s started", self.services.delivery.worker_id)
        delivery = self.services.delivery
        loops = [
            self._loop("outbox", stop, self._outbox_round, IDLE_SECONDS),
            self._loop("telegram", stop, delivery.send_telegram, TELEGRAM_IDLE_SECONDS),
            *(
                self._loop(job.name, stop, job.run, job.every_seconds, every=True)
                for job in self.jobs
            ),
        ]
        await asyncio.gather(*loops)
        log.info("worker %s stopped", delivery.worker_id)

    async def _outbox_round(self) -> int:
        delivery = self.services.delivery
        return await delivery.dispatch() + await delivery.deliver_webhooks()

    async def _loop(
        self,
        name: str,
        stop: asyncio.Event,
        step: Callable[[], Awaitable[object]],
        pause: float,
        *,
        every: bool = False,
    ) -> None:
        while not stop.is_set():
            try:
                done = await step()
            except Exception:
                if name not in self._failing:
                    self._failing.add(name)
                    log.exception(
                        "worker: %s failed; retrying every %.0f s", name, ERROR_PAUSE_SECONDS
                    )
                await _wait(stop, ERROR_PAUSE_SECONDS)
                continue
            if name in self._failing:
                self._failing.discard(name)
                log.info("worker: %s works again", name)
            if every or not done:
                await _wait(stop, pause)


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
