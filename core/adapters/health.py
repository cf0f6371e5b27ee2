"""Readiness probes beyond the database."""

from __future__ import annotations

from collections.abc import Sequence

from redis.asyncio import Redis

from core.ports import HealthProbe


class RedisProbe:
    def __init__(self, url: str) -> None:
        self._redis: Redis = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)

    async def ping(self) -> None:
        await self._redis.ping()

    async def aclose(self) -> None:
        await self._redis.aclose()


class AllOf:
    """Ready when every probe answers."""

    def __init__(self, probes: Sequence[HealthProbe]) -> None:
        self._probes = tuple(probes)

    async def ping(self) -> None:
        for probe in self._probes:
            await probe.ping()
