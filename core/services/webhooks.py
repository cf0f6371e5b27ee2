"""The operator's webhook endpoints: made, listed, changed, removed, their secrets rotated,
their delivery logs read and deliveries replayed."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from core.domain.cursor import check_page_size
from core.domain.entities import DeliveryPage, NewWebhookSecret, WebhookEndpoint
from core.domain.errors import EventNotFound, InvalidCursor, InvalidInput, WebhookNotFound
from core.domain.webhooks import (
    generate_secret,
    parse_description,
    parse_event_filter,
    parse_webhook_url,
)
from core.ports import Clock, UnitOfWorkFactory

log = logging.getLogger(__name__)

DELIVERY_STATUSES = ("pending", "delivered", "failed")


class WebhookService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, *, allow_http: bool) -> None:
        self._uow = uow
        self._clock = clock
        self._allow_http = allow_http

    async def create(
        self,
        url: str,
        events: Sequence[str],
        description: str | None = None,
        *,
        include_phones: bool = False,
    ) -> NewWebhookSecret:
        """A new endpoint, enabled, with a fresh ``whsec_`` secret (shown here only)."""
        clean_url = parse_webhook_url(url, allow_http=self._allow_http)
        chosen = parse_event_filter(events)
        secret = generate_secret()
        async with self._uow() as tx:
            endpoint = await tx.webhooks.add_endpoint(
                url=clean_url,
                events=chosen,
                description=parse_description(description),
                secret=secret,
                include_phones=include_phones,
                now=self._clock.now(),
            )
        log.info("webhook endpoint %d created for %s", endpoint.id, ", ".join(chosen))
        return NewWebhookSecret(endpoint=endpoint, secret=secret)

    async def list(self) -> Sequence[WebhookEndpoint]:
        async with self._uow(read_only=True) as tx:
            return await tx.webhooks.endpoints()

    async def get(self, endpoint_id: int) -> WebhookEndpoint:
        async with self._uow(read_only=True) as tx:
            found = await tx.webhooks.endpoint(endpoint_id)
        if found is None:
            raise WebhookNotFound()
        return found

    async def update(
        self,
        endpoint_id: int,
        *,
        url: str | None = None,
        events: Sequence[str] | None = None,
        enabled: bool | None = None,
        description: str | None = None,
        include_phones: bool | None = None,
    ) -> WebhookEndpoint:
        """Change what is given; enabling an endpoint clears why it was disabled."""
        values: dict[str, object] = {}
        if url is not None:
            values["url"] = parse_webhook_url(url, allow_http=self._allow_http)
        if events is not None:
            values["events"] = parse_event_filter(events)
        if description is not None:
            values["description"] = parse_description(description)
        if include_phones is not None:
            values["include_phones"] = include_phones
        if enabled is not None:
            values["enabled"] = enabled
            if enabled:
                values.update(disabled_at=None, disabled_reason=None, failing_since=None)
            else:
                values.update(disabled_at=self._clock.now(), disabled_reason="disabled by hand")
        if not values:
            raise InvalidInput("Give url, events, enabled, description or include_phones.")
        async with self._uow() as tx:
            if await tx.webhooks.endpoint(endpoint_id) is None:
                raise WebhookNotFound()
            await tx.webhooks.update_endpoint(endpoint_id, **values)
            updated = await tx.webhooks.endpoint(endpoint_id)
        assert updated is not None
        return updated

    async def delete(self, endpoint_id: int) -> None:
        async with self._uow() as tx:
            if not await tx.webhooks.delete_endpoint(endpoint_id):
                raise WebhookNotFound()
        log.info("webhook endpoint %d deleted", endpoint_id)

    async def rotate_secret(self, endpoint_id: int) -> NewWebhookSecret:
        """A new secret, effective for every attempt from now on (the old one stops at once)."""
        secret = generate_secret()
        async with self._uow() as tx:
            if await tx.webhooks.endpoint(endpoint_id) is None:
                raise WebhookNotFound()
            await tx.webhooks.update_endpoint(endpoint_id, secret=secret)
            endpoint = await tx.webhooks.endpoint(endpoint_id)
        assert endpoint is not None
        log.info("webhook endpoint %d: secret rotated", endpoint_id)
        return NewWebhookSecret(endpoint=endpoint, secret=secret)

    async def deliveries(
        self,
        endpoint_id: int,
        status: str | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> DeliveryPage:
        """The endpoint's deliveries, newest first, each with every attempt."""
        check_page_size(limit)
        if status is not None and status not in DELIVERY_STATUSES:
            raise InvalidInput(
                "status is one of " + ", ".join(DELIVERY_STATUSES) + ".", field="status"
            )
        after = _delivery_cursor(cursor) if cursor else None
        async with self._uow(read_only=True) as tx:
            if await tx.webhooks.endpoint(endpoint_id) is None:
                raise WebhookNotFound()
            items = await tx.webhooks.deliveries(endpoint_id, status, limit + 1, after)
        page = tuple(items[:limit])
        more = len(items) > limit and page
        return DeliveryPage(items=page, next_cursor=str(page[-1].id) if more else None)

    async def replay(self, endpoint_id: int, event_uid: str) -> None:
        """Queue the event for the endpoint again (delivered or not)."""
        async with self._uow() as tx:
            if await tx.webhooks.endpoint(endpoint_id) is None:
                raise WebhookNotFound()
            if not await tx.webhooks.requeue(endpoint_id, event_uid, self._clock.now()):
                raise EventNotFound()
        log.info("webhook endpoint %d: event %s queued again", endpoint_id, event_uid)


def _delivery_cursor(cursor: str) -> int:
    if not cursor.isascii() or not cursor.isdigit() or len(cursor) > 19:
        raise InvalidCursor()
    return int(cursor)
