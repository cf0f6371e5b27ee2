"""Event isolation with Redis that also keeps a user's updates in their order of arrival."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any

from aiogram.fsm.storage.base import KeyBuilder, StorageKey
from aiogram.fsm.storage.redis import RedisEventIsolation
from redis.asyncio import Redis


class OrderedRedisEventIsolation(RedisEventIsolation):
    """aiogram's Redis lock (one update of a user at a time, across processes), taken behind a
    local FIFO lock (in the order the updates arrived, in this process).

    The Redis lock alone is not fair: a contact and a code that come in one ``getUpdates``
    batch race for it, and the code may win. ``asyncio.Lock`` is taken at once when free and
    served first come, first served otherwise, and nothing is awaited before it, so the
    updates of a user run in the order Telegram sent them. Idle keys are forgotten.
    """

    def __init__(
        self,
        redis: Redis,
        key_builder: KeyBuilder | None = None,
        lock_kwargs: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(redis, key_builder=key_builder, lock_kwargs=lock_kwargs)
        self._local: dict[StorageKey, tuple[asyncio.Lock, list[int]]] = {}

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        local, users = self._local.setdefault(key, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with local, super().lock(key):
                yield
        finally:
            users[0] -= 1
            if not users[0]:
                del self._local[key]
