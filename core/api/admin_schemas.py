"""Bodies of the operator's API (``/admin/...``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr

from core.api.schemas import IsoDatetime
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


class ReasonIn(_In):
    reason: Annotated[StrictStr, Field(max_length=300)] | None = None


class RequiredReasonIn(_In):
    reason: Annotated[StrictStr, Field(min_length=1, max_length=300)]


class AttachIn(_In):
    invite_code: Annotated[StrictStr, Field(min_length=1, max_length=32)]
    reason: Annotated[StrictStr, Field(max_length=300)] | None = None


class PersonOut(BaseModel):
    id: int
    phone: str
    first_name: str | None
    last_name: str | None


class ReferralReviewOut(BaseModel):
    referee: PersonOut
    referrer: PersonOut
    status: str
    signals: list[str]
    joined_at: datetime | None
    qualified_at: datetime | None


class ReferralReviewPageOut(BaseModel):
    items: list[ReferralReviewOut]
    next_cursor: str | None


class ReferralStateOut(BaseModel):
    user_id: int
    referrer_id: int | None
    status: str | None
    signals: list[str]


class AuditOut(BaseModel):
    id: int
    actor: str
    action: str
    subject: str
    reason: str | None
    details: dict[str, object] | None
    created_at: datetime


class AuditPageOut(BaseModel):
    items: list[AuditOut]
    next_cursor: str | None


class ContestIn(_In):
    title: Annotated[StrictStr, Field(min_length=1, max_length=200)]
    starts_at: IsoDatetime
    ends_at: IsoDatetime
    by: Literal["joined", "qualified"] = "qualified"
    prizes: Annotated[
        list[Annotated[StrictStr, Field(max_length=200)]], Field(min_length=1, max_length=20)
    ]


class StandingOut(BaseModel):
    rank: int
    user_id: int
    name: str
    count: int
    prize: str | None = None


class ContestOut(BaseModel):
    id: int
    title: str
    starts_at: datetime
    ends_at: datetime
    by: str
    prizes: list[str]
    created_by: str
    closed_at: datetime | None
    standings: list[StandingOut] = Field(description="Live while it runs; the winners once closed.")


class ContestListOut(BaseModel):
    items: list[ContestOut]


class OperatorCampaignIn(_In):
    name: Annotated[StrictStr, Field(min_length=1, max_length=64)]
