"""Money-like amounts and the arithmetic of the reward rules. Pure: no storage, no clock.

Amounts are ``Decimal`` with exactly two places, never floats. A percent of an amount is
rounded half up to the cent (``10%`` of ``0.05`` is ``0.01``).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from core.domain.errors import InvalidAmount
from core.domain.policy import RewardPolicy

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
#: Sixteen digits before the point: what the ledger's NUMERIC(18, 2) holds.
MAX_AMOUNT = Decimal("9999999999999999.99")


class ReferralStatus(enum.StrEnum):
    """Where a referral (an activated invite) stands."""

    JOINED = "joined"  # the invite was activated
    QUALIFIED = "qualified"  # the referee did the qualifying action
    FLAGGED = "flagged"  # held for review; back to joined/qualified when approved
    REJECTED = "rejected"  # refused on review: it earns nothing


class RewardStatus(enum.StrEnum):
    PENDING = "pending"  # held: the hold has not passed, or the referral awaits review
    AVAILABLE = "available"  # counts in the balance
    REVERSED = "reversed"  # taken back before it became available


class RewardReason(enum.StrEnum):
    REFERRAL_JOIN = "referral_join"
    REFERRAL_QUALIFIED = "referral_qualified"
    REPEAT_EVENT = "repeat_event"
    LEVEL2 = "level2"
    ADJUSTMENT = "adjustment"
    REVERSAL = "reversal"


#: The reasons earned as a referrer: the ones the daily cap counts.
REFERRER_REASONS = frozenset(
    {
        RewardReason.REFERRAL_JOIN,
        RewardReason.REFERRAL_QUALIFIED,
        RewardReason.REPEAT_EVENT,
        RewardReason.LEVEL2,
    }
)


def parse_amount(raw: object, field: str = "amount", *, allow_negative: bool = False) -> Decimal:
    """A decimal string (or an int) with at most two places, within the ledger's range."""
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise InvalidAmount(f'{field} must be a decimal string such as "990.00".', field=field)
    text = raw.strip() if isinstance(raw, str) else str(raw)
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise InvalidAmount(
            f'{field} must be a decimal number such as "990.00".', field=field
        ) from None
    if not value.is_finite():
        raise InvalidAmount(f"{field} must be a finite number.", field=field)
    if value < 0 and not allow_negative:
        raise InvalidAmount(f"{field} must not be negative.", field=field)
    if abs(value) > MAX_AMOUNT:
        raise InvalidAmount(f"{field} must be at most {MAX_AMOUNT}.", field=field)
    # Within the range the quantization is exact (18 digits, far below the context's 28).
    if value != value.quantize(CENT, rounding=ROUND_HALF_UP):
        raise InvalidAmount(f"{field} may have at most two decimal places.", field=field)
    return value.quantize(CENT)


def percent_of(amount: Decimal, percent: Decimal) -> Decimal:
    return (amount * percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Reward:
    """One ledger entry the rules produce (before the daily cap)."""

    user_id: int
    amount: Decimal
    reason: RewardReason
    #: The referee whose referral this reward is about.
    referral_user_id: int


def join_rewards(policy: RewardPolicy, *, referrer_id: int, referee_id: int) -> list[Reward]:
    """The fixed amounts for an activated invite."""
    rewards = [
        Reward(referrer_id, policy.referrer_on_join, RewardReason.REFERRAL_JOIN, referee_id),
        Reward(referee_id, policy.referee_on_join, RewardReason.REFERRAL_JOIN, referee_id),
    ]
    return [r for r in rewards if r.amount > 0]


def qualifying_rewards(
    policy: RewardPolicy,
    *,
    referrer_id: int,
    referee_id: int,
    level2_id: int | None,
    amount: Decimal,
    first: bool,
) -> list[Reward]:
    """What one qualifying event earns.

    The first one (``first``) earns the fixed amounts plus the percents, as
    ``referral_qualified``; a later one earns the percents only, as ``repeat_event``, and only
    with ``every_event``. The referrer's own referrer gets ``level2_percent`` of each
    rewarded event.
    """
    if not first and not policy.every_event:
        return []
    reason = RewardReason.REFERRAL_QUALIFIED if first else RewardReason.REPEAT_EVENT
    fixed_referrer = policy.referrer_fixed if first else ZERO
    fixed_referee = policy.referee_fixed if first else ZERO
    rewards = [
        Reward(
            referrer_id,
            fixed_referrer + percent_of(amount, policy.referrer_percent),
            reason,
            referee_id,
        ),
        Reward(
            referee_id,
            fixed_referee + percent_of(amount, policy.referee_percent),
            reason,
            referee_id,
        ),
    ]
    if level2_id is not None:
        rewards.append(
            Reward(
                level2_id,
                percent_of(amount, policy.level2_percent),
                RewardReason.LEVEL2,
                referee_id,
            )
        )
    return [r for r in rewards if r.amount > 0]


def capped(amount: Decimal, earned_today: Decimal, cap: Decimal) -> tuple[Decimal, str | None]:
    """The part of ``amount`` the daily cap lets through, and a note when it held some back."""
    if cap <= 0:
        return amount, None
    room = max(ZERO, cap - earned_today)
    if amount <= room:
        return amount, None
    return room, (
        f"daily cap: {room} of {amount} credited; "
        f"{earned_today} of the cap of {cap} was already earned in the last 24 hours"
    )


def is_referrer_reward(reward: Reward) -> bool:
    """Whether the cap applies: what a user earns as a referrer, not as a referee."""
    return reward.reason in REFERRER_REASONS and reward.user_id != reward.referral_user_id


def total(amounts: Sequence[Decimal]) -> Decimal:
    return sum(amounts, ZERO).quantize(CENT)
