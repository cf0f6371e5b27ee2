"""Bodies of the operator's API (``/admin/...``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr

from core.domain.entities import WebhookDelivery, WebhookEndpoint


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


EventTypes = Annotated[
    list[Annotated[StrictStr, Field(max_length=64)]],
    Field(
        min_length=1,
        max_length=20,
        description='Event types, or ["*"] for every one.',
        examples=[["referral.joined", "referral.qualified"]],
    ),
]


class WebhookIn(_In):
    url: Annotated[StrictStr, Field(min_length=1, max_length=2000)] = Field(
        examples=["https://crm.example.org/hooks/referrals"]
    )
    events: EventTypes
    description: Annotated[StrictStr, Field(max_length=200)] | None = None
    include_phones: StrictBool = Field(
        False, description="Whether the payloads keep people's phone numbers."
    )


class WebhookUpdateIn(_In):
    url: Annotated[StrictStr, Field(min_length=1, max_length=2000)] | None = None
    events: EventTypes | None = None
    enabled: StrictBool | None = None
    description: Annotated[StrictStr, Field(max_length=200)] | None = None
    include_phones: StrictBool | None = None


class WebhookOut(BaseModel):
    id: int
    url: str
    events: list[str]
    description: str | None
    include_phones: bool
    enabled: bool
    created_at: datetime
    failing_since: datetime | None = Field(description="Since when every attempt has failed.")
    disabled_at: datetime | None
    disabled_reason: str | None

    @classmethod
    def of(cls, endpoint: WebhookEndpoint) -> WebhookOut:
        return cls(
            id=endpoint.id,
            url=endpoint.url,
            events=list(endpoint.events),
            description=endpoint.description,
            include_phones=endpoint.include_phones,
            enabled=endpoint.enabled,
            created_at=endpoint.created_at,
            failing_since=endpoint.failing_since,
            disabled_at=endpoint.disabled_at,
            disabled_reason=endpoint.disabled_reason,
        )


class WebhookSecretOut(WebhookOut):
    secret: str = Field(description="`whsec_...`: shown in full only in this answer.")


class WebhookListOut(BaseModel):
    items: list[WebhookOut]


class AttemptOut(BaseModel):
    attempted_at: datetime
    status_code: int | None = Field(description="null: no answer (refused, timeout, TLS...).")
    duration_ms: int
    response: str | None = Field(description="The first 1 KB of the answer.")
    error: str | None


class DeliveryOut(BaseModel):
    id: int
    event_id: str = Field(description="The event's id, also its `webhook-id`.")
    event_type: str
    status: str
    attempts: int
    queued_at: datetime
    next_attempt_at: datetime
    finished_at: datetime | None
    log: list[AttemptOut]

    @classmethod
    def of(cls, delivery: WebhookDelivery) -> DeliveryOut:
        return cls(
            id=delivery.id,
            event_id=delivery.event_uid,
            event_type=delivery.event_type,
            status=delivery.status,
            attempts=delivery.attempts,
            queued_at=delivery.queued_at,
            next_attempt_at=delivery.next_attempt_at,
            finished_at=delivery.finished_at,
            log=[
                AttemptOut(
                    attempted_at=a.attempted_at,
                    status_code=a.status_code,
                    duration_ms=a.duration_ms,
                    response=a.response,
                    error=a.error,
                )
                for a in delivery.log
            ],
        )


class DeliveryPageOut(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None


class QueuedOut(BaseModel):
    queued: bool = True
