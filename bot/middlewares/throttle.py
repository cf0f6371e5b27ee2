"""A per-user token bucket: floods are dropped before they reach the core."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram import BaseMiddleware
from aiogram.exceptions import TelegramAPIError
from aiogram.types import TelegramObject, Update, User
from aiogram.utils.i18n import I18n

from bot import texts
from bot.i18n import use_locale
from core.domain.languages import normalize_language

log = logging.getLogger(__name__)

#: How many seconds of allowance a quiet user saves up (the burst is ``rate * BURST_SECONDS``).
BURST_SECONDS = 3.0
_MAX_TRACKED = 10_000


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float
    warned: bool = False


class Throttle(BaseMiddleware):
    """``rate`` updates a second per user, with a burst of ``rate * BURST_SECONDS`` (at least 1).

    The first dropped update of a flood gets a short "wait a moment"; the rest are dropped in
    silence until the user slows down. The buckets live in this process.
    """

    def __init__(
        self, rate: float, i18n: I18n, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate * BURST_SECONDS)
        self._i18n = i18n
        self._clock = clock
        self._buckets: dict[int, _Bucket] = {}

    def allow(self, user_id: int) -> tuple[bool, bool]:
        """(allowed, warn): take a token if there is one; warn once per flood."""
        now = self._clock()
        bucket = self._buckets.get(user_id)
        if bucket is None:
            if len(self._buckets) >= _MAX_TRACKED:
                self._forget_idle(now)
            bucket = self._buckets[user_id] = _Bucket(self.capacity, now)
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            bucket.warned = False
            return True, False
        warn = not bucket.warned
        bucket.warned = True
        return False, warn

    def _forget_idle(self, now: float) -> None:
        full = [
            uid
            for uid, b in self._buckets.items()
            if b.tokens + (now - b.updated) * self.rate >= self.capacity
        ]
        for uid in full:
            del self._buckets[uid]

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None:
            return await handler(event, data)
        allowed, warn = self.allow(user.id)
        if allowed:
            return await handler(event, data)
        log.info("throttled user %d (update %s)", user.id, getattr(event, "update_id", "?"))
        if warn and isinstance(event, Update):
            await self._warn(event, normalize_language(user.language_code))
        return None

    async def _warn(self, update: Update, locale: str) -> None:
        with use_locale(self._i18n, locale):
            text = texts.throttled()
        try:
            if update.callback_query is not None:
                await update.callback_query.answer(text)
            elif update.message is not None:
                await update.message.answer(text)
        except TelegramAPIError:
            log.warning("could not tell a throttled user to slow down", exc_info=True)
