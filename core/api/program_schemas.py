"""Bodies of the referral program's operations: events, rewards, integrators' lookups.

Amounts travel as strings with two decimal places ("990.00"), never as JSON numbers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from core.api.schemas import IsoDatetime
from core.domain.entities import LedgerEntry

Amount = Annotated[str, Field(examples=["990.00"], description="Two decimal places, as a string.")]
ReferralStatusName = Literal["joined", "qualified", "flagged", "rejected"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UserRefIn(_In):
    """Exactly one of the three."""

    id: StrictInt | None = Field(None, description="The service's user id.")
    phone: Annotated[StrictStr, Field(max_length=32)] | None = Field(
        None, description="The phone the user logged in with, e.g. +79991234567."
    )
    telegram_id: StrictInt | None = Field(None, description="The Telegram account's id.")


class EventIn(_In):
    event_id: Annotated[StrictStr, Field(min_length=1, max_length=128)] = Field(
        description="Your own id of the event: a repeat of it is answered, never credited twice."
    )
    type: Annotated[StrictStr, Field(min_length=1, max_length=64)] = Field(
        examples=["purchase"],
        description="The event's type; REWARD_QUALIFYING_EVENT names the one that qualifies.",
    )
    user: UserRefIn
    amount: Annotated[StrictStr | StrictInt, Field(examples=["990.00"])] = Field(
        "0", description="A non-negative amount with at most two decimal places, as a string."
    )
    occurred_at: IsoDatetime | None = Field(
        None, description="When it happened (ISO 8601 with a time zone); default: now."
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "event_id": "order-1001",
                    "type": "purchase",
                    "user": {"phone": "+79991234567"},
                    "amount": "990.00",
                }
            ]
        }
    )


class RewardOut(BaseModel):
    user_id: int
    amount: Amount
    status: Literal["pending", "available", "reversed"]
    reason: str


class EventOut(BaseModel):
    event_id: str
    user_id: int
    referral_status: ReferralStatusName | None
    rewards: list[RewardOut]


class LedgerEntryOut(BaseModel):
    id: int
    amount: Amount
    status: Literal["pending", "available", "reversed"]
    reason: Literal[
        "referral_join", "referral_qualified", "repeat_event", "level2", "adjustment", "reversal"
    ]
    referral_user_id: int | None
    event_id: str | None = Field(description="The integrator's id of the event, if one.")
    created_at: datetime
    available_at: datetime | None = Field(
        description="When a pending entry becomes available; null while under review."
    )
    note: str | None

    @classmethod
    def of(cls, entry: LedgerEntry) -> LedgerEntryOut:
        return cls(
            id=entry.id,
            amount=str(entry.amount),
            status=entry.status.value,
            reason=entry.reason.value,
            referral_user_id=entry.referral_user_id,
            event_id=entry.event_id,
            created_at=entry.created_at,
            available_at=entry.available_at,
            note=entry.note,
        )


class RewardPageOut(BaseModel):
    balance: Amount = Field(description="What is available.")
    pending_balance: Amount = Field(description="What is held (the hold, or a review).")
    unit: str = Field(examples=["points"])
    items: list[LedgerEntryOut]
    next_cursor: str | None


class IntegrationUserOut(BaseModel):
    """A user as an integrator with ``users:read`` sees it."""

    id: int
    phone: str
    first_name: str | None
    last_name: str | None
    referral_code: str
    telegram_id: int | None
    referrer_id: int | None
    referral_status: ReferralStatusName | None
    joined_at: datetime | None
    qualified_at: datetime | None
    referral_count: int
    qualified_count: int
    balance: Amount
    pending_balance: Amount
    created_at: datetime
