"""Delivering the outbox: events become webhook deliveries and Telegram messages, which the
worker sends, retries and records.

* Dispatch: each new event gets one delivery per subscribed, enabled endpoint and the Telegram
  messages ``core.domain.notifications`` asks for, in one transaction.
* Webhooks: per endpoint, the oldest pending delivery only (so a referral's ``joined`` reaches
  it before its ``qualified``), leased to one worker at a time; any 2xx is success, anything
  else is retried on ``core.domain.webhooks.RETRY_SCHEDULE`` until it ages out.
* Telegram: one worker at a time holds the sender's lease (Telegram's limits are global); at
  most ``telegram_per_second`` messages a second and one per chat each
  ``telegram_chat_interval_seconds``; a chat Telegram asks to wait waits alone.

Deliveries are at least once: a worker killed mid-way leaves a lease that expires, and the
next worker sends again. Broadcast messages are the exception: one found mid-sending after a
crash is marked ``uncertain`` and never sent twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Sequence
from datetime import timedelta

from core.domain.entities import ClaimedDelivery, QueuedMessage
from core.domain.events import without_phones
from core.domain.notifications import notifications_for
from core.domain.policy import DeliveryPolicy
from core.domain.webhooks import retry_delay, subscribed
from core.ports import (
    Clock,
    Metrics,
    RecipientBlocked,
    SendFailed,
    SendLater,
    TelegramSender,
    UnitOfWorkFactory,
    WebhookSender,
)

log = logging.getLogger(__name__)

DISPATCH_BATCH = 500
WEBHOOK_BATCH = 20
TELEGRAM_BATCH = 100
TELEGRAM_LEASE = "telegram"
#: Sends in flight at once (each waits on Telegram's answer).
TELEGRAM_CONCURRENCY = 8
#: A message failing this many times in a row (on the retry schedule: about a day of
#: Telegram being down) is dropped, and the drop logged.
MAX_TELEGRAM_ATTEMPTS = 18


class RateLimiter:
    """``rate`` events a second (a token bucket with a burst of one second's worth)."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self._tokens = rate
        self._updated = time.monotonic()

    async def take(self) -> None:
        while True:
            now = time.monotonic()
            self._tokens = min(self.rate, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            if self._tokens >= 1:
                self._tokens -= 1
                return
            await asyncio.sleep((1 - self._tokens) / self.rate)


class DeliveryService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        metrics: Metrics,
        policy: DeliveryPolicy,
        *,
        webhooks: WebhookSender | None,
        telegram: TelegramSender | None,
        worker_id: str,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._metrics = metrics
        self._policy = policy
        self._webhooks = webhooks
        self._telegram = telegram
        self.worker_id = worker_id
        self._bucket = RateLimiter(policy.telegram_per_second)
        self._last_sent: dict[int, float] = {}
        self._warned_endpoints: set[int] = set()

    # ----- dispatch ------------------------------------------------------------------------

    async def dispatch(self, limit: int = DISPATCH_BATCH) -> int:
        """Turn the oldest undispatched events into deliveries and messages; how many."""
        now = self._clock.now()
        async with self._uow() as tx:
            events = await tx.outbox.undispatched(limit)
            if not events:
                return 0
            endpoints = [e for e in await tx.webhooks.endpoints() if e.enabled]
            pairs = [
                (endpoint.id, event.id)
                for event in events
                for endpoint in endpoints
                if subscribed(endpoint.events, event.type)
            ]
            await tx.webhooks.add_deliveries(pairs, now)
            if self._telegram is not None:
                notes = [n for e in events for n in notifications_for(e.type, e.payload)]
                await tx.telegram.enqueue([(n.user_id, n.kind, n.params) for n in notes], now)
            await tx.outbox.mark_dispatched([e.id for e in events], now)
        return len(events)

    async def lag(self) -> float:
        """Seconds since the oldest event still waiting to be dispatched or delivered."""
        async with self._uow(read_only=True) as tx:
            oldest = await tx.outbox.oldest_undelivered()
        seconds = (self._clock.now() - oldest).total_seconds() if oldest else 0.0
        self._metrics.outbox_lag(max(0.0, seconds))
        return max(0.0, seconds)

    # ----- webhooks ------------------------------------------------------------------------

    async def deliver_webhooks(self, limit: int = WEBHOOK_BATCH) -> int:
        """Attempt the due head delivery of up to ``limit`` endpoints at once; how many."""
        if self._webhooks is None:
            return 0
        now = self._clock.now()
        lease = now + timedelta(seconds=self._policy.lease_seconds)
        async with self._uow() as tx:
            claimed = await tx.webhooks.claim(now, lease, limit)
        await asyncio.gather(*(self._deliver(c) for c in claimed))
        return len(claimed)

    async def _deliver(self, claimed: ClaimedDelivery) -> None:
        assert self._webhooks is not None
        data = claimed.payload if claimed.include_phones else without_phones(claimed.payload)
        body = json.dumps(
            {
                "type": claimed.event_type,
                "timestamp": claimed.event_created_at.isoformat(),
                "data": data,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )
        started = self._clock.now()
        result = await self._webhooks.send(
            claimed.url, claimed.secret, claimed.event_uid, body, started
        )
        now = self._clock.now()
        async with self._uow() as tx:
            await tx.webhooks.record_attempt(claimed.id, started, result)
            if result.ok:
                await tx.webhooks.finish(claimed.id, "delivered", now)
                if claimed.failing_since is not None:
                    await tx.webhooks.update_endpoint(claimed.endpoint_id, failing_since=None)
                    self._warned_endpoints.discard(claimed.endpoint_id)
                    log.info("webhook endpoint %d answers again", claimed.endpoint_id)
                self._metrics.webhook_delivery("delivered")
                return
            age = now - claimed.queued_at
            if age >= timedelta(seconds=self._policy.webhook_max_age_seconds):
                await tx.webhooks.finish(claimed.id, "failed", now)
                self._metrics.webhook_delivery("failed")
                log.warning(
                    "webhook endpoint %d: event %s failed after %d attempts over %s",
                    claimed.endpoint_id,
                    claimed.event_uid,
                    claimed.attempts,
                    age,
                )
            else:
                await tx.webhooks.retry_at(claimed.id, now + retry_delay(claimed.attempts))
                self._metrics.webhook_delivery("retry")
            failing_since = claimed.failing_since or started
            if claimed.failing_since is None:
                await tx.webhooks.update_endpoint(claimed.endpoint_id, failing_since=started)
            if now - failing_since >= timedelta(seconds=self._policy.webhook_disable_after_seconds):
                reason = (
                    f"every attempt failed since {failing_since.isoformat()}; "
                    f"last: {result.error or result.status_code}"
                )
                await tx.webhooks.update_endpoint(
                    claimed.endpoint_id, enabled=False, disabled_at=now, disabled_reason=reason
                )
                log.warning("webhook endpoint %d disabled: %s", claimed.endpoint_id, reason)
            elif claimed.endpoint_id not in self._warned_endpoints:
                self._warned_endpoints.add(claimed.endpoint_id)
                log.warning(
                    "webhook endpoint %d failing: %s",
                    claimed.endpoint_id,
                    result.error or f"answered {result.status_code}",
                )

    # ----- Telegram ------------------------------------------------------------------------

    async def send_telegram(self, limit: int = TELEGRAM_BATCH) -> int:
        """Send due messages within Telegram's limits, if this worker holds the sender; how
        many were tried."""
        if self._telegram is None:
            return 0
        now = self._clock.now()
        lease = now + timedelta(seconds=self._policy.lease_seconds)
        async with self._uow() as tx:
            if not await tx.leases.acquire(TELEGRAM_LEASE, self.worker_id, now, lease):
                return 0
            requeued, uncertain = await tx.telegram.recover_stale(now)
            due = await tx.telegram.due(now, limit)
        if requeued or uncertain:
            log.warning(
                "messages left mid-sending by a stopped worker: %d queued again, "
                "%d broadcast messages marked uncertain (never sent twice)",
                requeued,
                uncertain,
            )
        picked = self._one_per_chat(due)
        gate = asyncio.Semaphore(TELEGRAM_CONCURRENCY)

        async def send(message: QueuedMessage) -> None:
            async with gate:
                await self._bucket.take()
                await self._send(message)

        await asyncio.gather(*(send(m) for m in picked))
        return len(picked)

    def _one_per_chat(self, due: Sequence[QueuedMessage]) -> list[QueuedMessage]:
        """At most one message per chat, and none to a chat written to less than the chat
        interval ago: the rest wait for a later round."""
        mono = time.monotonic()
        interval = self._policy.telegram_chat_interval_seconds
        picked, seen = [], set()
        for message in due:
            if message.user_id in seen:
                continue
            seen.add(message.user_id)
            if mono - self._last_sent.get(message.user_id, float("-inf")) < interval:
                continue
            picked.append(message)
        if len(self._last_sent) > 100_000:
            self._last_sent = {u: t for u, t in self._last_sent.items() if mono - t < interval}
        return picked

    async def _send(self, message: QueuedMessage) -> None:
        assert self._telegram is not None
        now = self._clock.now()
        lease = now + timedelta(seconds=self._policy.lease_seconds)
        async with self._uow() as tx:
            if not await tx.telegram.mark_sending(message.id, lease):
                return
        self._last_sent[message.user_id] = time.monotonic()
        outcome = "sent"
        try:
            await self._telegram.send(message)
        except RecipientBlocked:
            outcome = "blocked"
            async with self._uow() as tx:
                await tx.telegram.mark_blocked(message.id, message.user_id, self._clock.now())
            log.info("user %d blocked the bot: nothing more is sent to them", message.user_id)
        except SendLater as exc:
            outcome = "retry"
            until = self._clock.now() + timedelta(seconds=max(1.0, exc.retry_after))
            async with self._uow() as tx:
                await tx.telegram.retry_at(message.id, until, str(exc))
                await tx.telegram.delay_user(message.user_id, until)
        except SendFailed as exc:
            outcome = await self._failed(message, str(exc), permanent=exc.permanent)
        except Exception as exc:
            log.exception("sending message %d failed", message.id)
            outcome = await self._failed(message, repr(exc), permanent=False)
        else:
            async with self._uow() as tx:
                await tx.telegram.mark_sent(message.id, self._clock.now())
        self._metrics.telegram_message(outcome)

    async def _failed(self, message: QueuedMessage, error: str, *, permanent: bool) -> str:
        now = self._clock.now()
        async with self._uow() as tx:
            if permanent or message.attempts + 1 >= MAX_TELEGRAM_ATTEMPTS:
                await tx.telegram.fail(message.id, now, error)
                log.warning("message %d to user %d dropped: %s", message.id, message.user_id, error)
                return "failed"
            await tx.telegram.retry_at(message.id, now + retry_delay(message.attempts + 1), error)
        return "retry"
