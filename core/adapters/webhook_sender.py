"""``WebhookSender`` over HTTP: a pooled httpx client, signed per the Standard Webhooks spec."""

from __future__ import annotations

import time
from datetime import datetime

import httpx
from standardwebhooks.webhooks import Webhook

from core.domain.entities import DeliveryResult
from core.domain.webhooks import DELIVERY_TIMEOUT_SECONDS, RESPONSE_EXCERPT

USER_AGENT = "referral-service-webhooks/1"


class HttpWebhookSender:
    """POSTs JSON with ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature``.

    Any answer is reported, never raised: a timeout, a refused connection or a TLS failure
    come back as a result with no status and the error's name.
    """

    def __init__(self, *, timeout: float = DELIVERY_TIMEOUT_SECONDS, verify: bool = True) -> None:
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            verify=verify,
            headers={"User-Agent": USER_AGENT},
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        )

    async def send(
        self, url: str, secret: str, event_uid: str, body: str, now: datetime
    ) -> DeliveryResult:
        signature = Webhook(secret).sign(event_uid, now, body)
        headers = {
            "Content-Type": "application/json",
            "webhook-id": event_uid,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signature,
        }
        started = time.perf_counter()
        try:
            response = await self._client.post(url, content=body.encode(), headers=headers)
        except httpx.HTTPError as exc:
            return DeliveryResult(
                status_code=None,
                duration_ms=_elapsed_ms(started),
                response=None,
                error=f"{type(exc).__name__}: {exc}"[:300] or type(exc).__name__,
            )
        excerpt = response.content[:RESPONSE_EXCERPT].decode("utf-8", errors="replace")
        return DeliveryResult(
            status_code=response.status_code,
            duration_ms=_elapsed_ms(started),
            response=excerpt or None,
            error=None,
        )

    async def aclose(self) -> None:
        await self._client.aclose()


def _elapsed_ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
