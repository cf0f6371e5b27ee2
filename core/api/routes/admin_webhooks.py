"""The operator's webhook endpoints (scope ``admin``)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response

from core.api.admin_schemas import (
    DeliveryOut,
    DeliveryPageOut,
    QueuedOut,
    WebhookIn,
    WebhookListOut,
    WebhookOut,
    WebhookSecretOut,
    WebhookUpdateIn,
)
from core.api.deps import AdminKey, ServicesDep
from core.api.errors import responses
from core.domain.entities import NewWebhookSecret

router = APIRouter(prefix="/admin/webhooks", tags=["admin: webhooks"])

EndpointId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _with_secret(new: NewWebhookSecret) -> WebhookSecretOut:
    return WebhookSecretOut(**WebhookOut.of(new.endpoint).model_dump(), secret=new.secret)


@router.post(
    "/",
    name="create_webhook",
    summary="Subscribe an endpoint to events; the answer holds its secret",
    status_code=201,
    response_model=WebhookSecretOut,
    responses=responses(401, 403, 422),
)
async def create_webhook(
    body: WebhookIn, admin: AdminKey, services: ServicesDep
) -> WebhookSecretOut:
    new = await services.webhooks.create(
        body.url, body.events, body.description, include_phones=body.include_phones
    )
    return _with_secret(new)


@router.get(
    "/",
    name="list_webhooks",
    summary="Every endpoint (without secrets)",
    response_model=WebhookListOut,
    responses=responses(401, 403),
)
async def list_webhooks(admin: AdminKey, services: ServicesDep) -> WebhookListOut:
    return WebhookListOut(items=[WebhookOut.of(e) for e in await services.webhooks.list()])


@router.get(
    "/{id}/",
    name="get_webhook",
    summary="One endpoint (without its secret)",
    response_model=WebhookOut,
    responses=responses(401, 403, 404, 422),
)
async def get_webhook(id: EndpointId, admin: AdminKey, services: ServicesDep) -> WebhookOut:
    return WebhookOut.of(await services.webhooks.get(id))


@router.patch(
    "/{id}/",
    name="update_webhook",
    summary="Change the URL, the events, or enable/disable it",
    response_model=WebhookOut,
    responses=responses(401, 403, 404, 422),
)
async def update_webhook(
    id: EndpointId, body: WebhookUpdateIn, admin: AdminKey, services: ServicesDep
) -> WebhookOut:
    endpoint = await services.webhooks.update(
        id,
        url=body.url,
        events=body.events,
        enabled=body.enabled,
        description=body.description,
        include_phones=body.include_phones,
    )
    return WebhookOut.of(endpoint)


@router.delete(
    "/{id}/",
    name="delete_webhook",
    summary="Remove the endpoint and its delivery log",
    status_code=204,
    response_class=Response,
    responses=responses(401, 403, 404, 422),
)
async def delete_webhook(id: EndpointId, admin: AdminKey, services: ServicesDep) -> Response:
    await services.webhooks.delete(id)
    return Response(status_code=204)


@router.post(
    "/{id}/rotate-secret/",
    name="rotate_webhook_secret",
    summary="A new secret for the endpoint (the old one stops at once)",
    response_model=WebhookSecretOut,
    responses=responses(401, 403, 404, 422),
)
async def rotate_webhook_secret(
    id: EndpointId, admin: AdminKey, services: ServicesDep
) -> WebhookSecretOut:
    return _with_secret(await services.webhooks.rotate_secret(id))


@router.get(
    "/{id}/deliveries/",
    name="list_webhook_deliveries",
    summary="The delivery log, newest first: every attempt with its answer",
    response_model=DeliveryPageOut,
    responses=responses(401, 403, 404, 422),
)
async def list_webhook_deliveries(
    id: EndpointId,
    admin: AdminKey,
    services: ServicesDep,
    status: Literal["pending", "delivered", "failed"] | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=20)] = None,
) -> DeliveryPageOut:
    page = await services.webhooks.deliveries(id, status, limit, cursor)
    return DeliveryPageOut(
        items=[DeliveryOut.of(d) for d in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "/{id}/deliveries/{event_id}/replay/",
    name="replay_webhook_delivery",
    summary="Queue an event for the endpoint again",
    status_code=202,
    response_model=QueuedOut,
    responses=responses(401, 403, 404, 422),
)
async def replay_webhook_delivery(
    id: EndpointId,
    event_id: Annotated[str, Path(max_length=40)],
    admin: AdminKey,
    services: ServicesDep,
) -> QueuedOut:
    await services.webhooks.replay(id, event_id)
    return QueuedOut()
