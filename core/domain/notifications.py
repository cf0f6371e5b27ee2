"""Which domain events tell whom what in Telegram. Pure: event in, messages out.

A message names its kind and the values its text is made of; the bot renders the text when
it sends it, in the recipient's language at that moment.

* ``referral.joined`` tells the referrer (with what the join earned them);
* ``referral.qualified`` tells the referrer (with what the qualification earned them);
* ``reward.created`` tells the referee of a double-sided reward, the referrer's referrer of a
  second-level one, and the referrer of a repeat purchase (the referrer's join and
  qualification rewards are in the two messages above);
* ``reward.available`` tells the user that a held reward can now be spent.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from core.domain import events

REFERRAL_JOINED = "referral_joined"
REFERRAL_QUALIFIED = "referral_qualified"
REWARD_RECEIVED = "reward_received"
REWARD_AVAILABLE = "reward_available"
BROADCAST = "broadcast"
CONTEST_WON = "contest_won"
CONTEST_CLOSED = "contest_closed"


@dataclass(frozen=True, slots=True)
class Notification:
    user_id: int
    kind: str
    params: dict[str, Any]


def _earned(rewards: list[dict[str, Any]], user_id: int) -> dict[str, Any]:
    """The sum of ``rewards`` credited to ``user_id``, and whether any of it is held."""
    mine = [r for r in rewards if r["user_id"] == user_id]
    total = sum((Decimal(r["amount"]) for r in mine), Decimal("0.00"))
    pending = [r for r in mine if r["status"] == "pending"]
    return {
        "amount": str(total),
        "unit": mine[0]["unit"] if mine else None,
        "pending": bool(pending),
        "available_at": min((r["available_at"] or "" for r in pending), default=None) or None,
    }


def _referee(payload: dict[str, Any]) -> dict[str, Any]:
    referee = payload["referee"]
    return {
        "referee_id": referee["id"],
        "first_name": referee.get("first_name"),
        "last_name": referee.get("last_name"),
        "phone": referee.get("phone"),
    }


def notifications_for(event_type: str, payload: dict[str, Any]) -> list[Notification]:
    if event_type in (events.REFERRAL_JOINED, events.REFERRAL_QUALIFIED):
        referrer = payload.get("referrer")
        if not referrer:
            return []
        kind = REFERRAL_JOINED if event_type == events.REFERRAL_JOINED else REFERRAL_QUALIFIED
        params = {
            **_referee(payload),
            **_earned(payload.get("rewards", []), referrer["id"]),
            "referral_count": referrer.get("referral_count"),
        }
        return [Notification(referrer["id"], kind, params)]
    if event_type == events.REWARD_CREATED:
        reward = payload["reward"]
        is_referrers_own = reward["user_id"] != reward["referral_user_id"] and reward["reason"] in (
            "referral_join",
            "referral_qualified",
        )
        if is_referrers_own or Decimal(reward["amount"]) <= 0:
            return []
        return [Notification(reward["user_id"], REWARD_RECEIVED, _reward_params(reward))]
    if event_type == events.REWARD_AVAILABLE and payload.get("released"):
        reward = payload["reward"]
        if Decimal(reward["amount"]) <= 0:
            return []
        return [Notification(reward["user_id"], REWARD_AVAILABLE, _reward_params(reward))]
    return []


def _reward_params(reward: dict[str, Any]) -> dict[str, Any]:
    return {
        "amount": reward["amount"],
        "unit": reward["unit"],
        "reason": reward["reason"],
        "pending": reward["status"] == "pending",
        "available_at": reward["available_at"],
        "as_referee": reward["user_id"] == reward["referral_user_id"],
    }
