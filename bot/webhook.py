"""Webhook mode: Telegram posts updates to the API process, which answers at once.

``WebhookIntake`` checks the secret token in constant time, drops an update id it has seen
(Telegram re-sends what it believes was lost), and hands the update to a bounded queue that a
few workers feed to the Dispatcher. With Redis the seen ids are shared by every process.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from pydantic import ValidationError
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from core.services import Services
from core.settings import Settings

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)
SEEN_TTL_SECONDS = 24 * 3600
SEEN_IN_MEMORY = 100_000


class SeenUpdates:
    """Update ids already taken: in Redis (``SET NX`` with a TTL) or in a bounded memory set."""

    def __init__(self, redis: Redis | None = None, *, bot_id: int = 0) -> None:
        self._redis = redis
        self._prefix = f"referral:webhook:{bot_id}:"
        self._memory: OrderedDict[int, None] = OrderedDict()

    async def first_time(self, update_id: int) -> bool:
        if self._redis is not None:
            added = await self._redis.set(
                f"{self._prefix}{update_id}", 1, nx=True, ex=SEEN_TTL_SECONDS
            )
            return bool(added)
        if update_id in self._memory:
            return False
        self._memory[update_id] = None
        if len(self._memory) > SEEN_IN_MEMORY:
            self._memory.popitem(last=False)
        return True


class QueueFull(Exception):
    """The backlog is full: Telegram will retry the update later."""


class WebhookIntake:
    def __init__(
        self,
        bot: Bot,
        dispatcher: Dispatcher,
        *,
        secret: str,
        seen: SeenUpdates,
        queue_size: int = 1000,
        workers: int = 4,
    ) -> None:
        self.bot = bot
        self.dispatcher = dispatcher
        self._secret = secret.encode()
        self._seen = seen
        self._queue: asyncio.Queue[Update] = asyncio.Queue(maxsize=queue_size)
        self._workers_count = workers
        self._workers: list[asyncio.Task[None]] = []

    def secret_matches(self, token: str | None) -> bool:
        return hmac.compare_digest((token or "").encode(), self._secret)

    async def accept(self, payload: dict[str, Any]) -> bool:
        """Queue one update; False for an id seen before. Raises ``QueueFull``."""
        update = Update.model_validate(payload, context={"bot": self.bot})
        if self._queue.full():
            raise QueueFull
        if not await self._seen.first_time(update.update_id):
            return False
        self._queue.put_nowait(update)
        return True

    async def start(self) -> None:
        self._workers = [asyncio.create_task(self._work()) for _ in range(self._workers_count)]

    async def stop(self, timeout: float = 25) -> None:
        """Finish the updates already taken (up to ``timeout``), then stop the workers."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), timeout)
        for task in self._workers:
            task.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)

    async def _work(self) -> None:
        while True:
            update = await self._queue.get()
            try:
                await self.dispatcher.feed_update(self.bot, update)
            except Exception:
                log.exception("webhook update %d failed", update.update_id)
            finally:
                self._queue.task_done()


@contextlib.asynccontextmanager
async def webhook_intake(settings: Settings, services: Services) -> AsyncIterator[WebhookIntake]:
    """The intake the API process runs in webhook mode, from start-up to shutdown."""
    from bot.app import create_bot, create_dispatcher

    assert settings.webhook_secret is not None
    bot = create_bot(settings)
    dispatcher = create_dispatcher(services, settings)
    redis = (
        Redis.from_url(settings.redis_url.get_secret_value())
        if settings.redis_url is not None
        else None
    )
    intake = WebhookIntake(
        bot,
        dispatcher,
        secret=settings.webhook_secret.get_secret_value(),
        seen=SeenUpdates(redis, bot_id=bot.id),
    )
    await intake.start()
    try:
        yield intake
    finally:
        await intake.stop()
        await dispatcher.fsm.close()
        if redis is not None:
            await redis.aclose()
        await bot.session.close()


def _refuse(status: int, detail: str, code: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"detail": detail, "code": code}, status_code=status, headers=headers)


def mount_webhook(app: Starlette, intake: WebhookIntake, webhook_url: str) -> None:
    """Serve Telegram's posts on the path of ``WEBHOOK_URL`` (outside the API's schema)."""

    async def telegram_webhook(request: Request) -> Response:
        if not intake.secret_matches(request.headers.get(SECRET_HEADER)):
            return _refuse(403, "Wrong or missing secret token.", "forbidden")
        try:
            payload = json.loads(await request.body())
        except ValueError:
            return _refuse(422, "The body is not valid JSON.", "validation_error")
        if not isinstance(payload, dict) or not isinstance(payload.get("update_id"), int):
            return _refuse(422, "The body is not a Telegram update.", "validation_error")
        try:
            await intake.accept(payload)
        except ValidationError:
            return _refuse(422, "The body is not a Telegram update.", "validation_error")
        except QueueFull:
            return _refuse(503, "Busy; Telegram will retry.", "busy", {"Retry-After": "5"})
        return Response(b'{"ok":true}', media_type="application/json")

    path = urlsplit(webhook_url).path or "/"
    app.add_route(path, telegram_webhook, methods=["POST"], name="telegram_webhook")


async def register_webhook(settings: Settings, bot: Bot, dispatcher: Dispatcher) -> None:
    """``referral bot`` in webhook mode: point Telegram at the API with the secret token."""
    assert settings.webhook_url is not None and settings.webhook_secret is not None
    await bot.set_webhook(
        settings.webhook_url,
        secret_token=settings.webhook_secret.get_secret_value(),
        allowed_updates=dispatcher.resolve_used_update_types(),
        drop_pending_updates=False,
    )
    log.info("webhook registered: Telegram now posts updates to the API process")
