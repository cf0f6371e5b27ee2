"""The domain events the outbox carries: their types and payloads (plain JSON values).

Ids are numbers, amounts strings with two places, times ISO 8601 in UTC. Phones appear only
under ``"phone"`` keys, so a delivery can leave them out where its endpoint may not see them.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from core.domain.entities import LedgerEntry, User

USER_CREATED = "user.created"
REFERRAL_JOINED = "referral.joined"
REFERRAL_QUALIFIED = "referral.qualified"
REFERRAL_FLAGGED = "referral.flagged"
REFERRAL_APPROVED = "referral.approved"
REFERRAL_REJECTED = "referral.rejected"
REWARD_CREATED = "reward.created"
REWARD_AVAILABLE = "reward.available"
REWARD_REVERSED = "reward.reversed"

TYPES = (
    USER_CREATED,
    REFERRAL_JOINED,
    REFERRAL_QUALIFIED,
    REFERRAL_FLAGGED,
    REFERRAL_APPROVED,
    REFERRAL_REJECTED,
    REWARD_CREATED,
    REWARD_AVAILABLE,
    REWARD_REVERSED,
)


def new_event_uid() -> str:
    """A unique event id; a webhook's ``webhook-id``, stable across its retries."""
    return "evt_" + uuid.uuid4().hex


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def person(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "phone": user.phone,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "referral_count": user.referral_count,
    }


def user_created(user: User) -> dict[str, Any]:
    return {
        "user": {
            "id": user.id,
            "phone": user.phone,
            "referral_code": user.invite_code,
            "telegram_id": user.telegram_id,
            "created_at": _time(user.created_at),
        }
    }


def referral(
    referee: User, referrer: User | None, *, reason: str | None = None, **extra: Any
) -> dict[str, Any]:
    """A referral's state after a change: the referee as it now stands, and its referrer."""
    payload: dict[str, Any] = {
        "referral": {
            "referee_id": referee.id,
            "referrer_id": referee.referrer_id,
            "status": referee.referral_status.value if referee.referral_status else None,
            "joined_at": _time(referee.referred_at),
            "qualified_at": _time(referee.qualified_at),
        },
        "referee": person(referee),
        "referrer": person(referrer) if referrer is not None else None,
    }
    if reason is not None:
        payload["reason"] = reason
    payload.update(extra)
    return payload


def reward(entry: LedgerEntry, unit: str, *, released: bool = False) -> dict[str, Any]:
    """A ledger entry; ``released``: a pending one whose hold (or review) just ended."""
    return {
        "released": released,
        "reward": {
            "id": entry.id,
            "user_id": entry.user_id,
            "amount": str(entry.amount),
            "unit": unit,
            "status": entry.status.value,
            "reason": entry.reason.value,
            "referral_user_id": entry.referral_user_id,
            "event_id": entry.event_id,
            "created_at": _time(entry.created_at),
            "available_at": _time(entry.available_at),
            "note": entry.note,
        },
    }


def without_phones(payload: Any) -> Any:
    """The payload with every ``"phone"`` key removed, at any depth."""
    if isinstance(payload, dict):
        return {k: without_phones(v) for k, v in payload.items() if k != "phone"}
    if isinstance(payload, list):
        return [without_phones(v) for v in payload]
    return payload
