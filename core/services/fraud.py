"""Fraud signals, computed when a referral joins and when it qualifies: a referral that trips
one is flagged (held for review), never refused."""

from __future__ import annotations

from datetime import datetime

from core.domain.entities import User
from core.domain.growth import Signal, burst, fast_qualify, same_prefix, shared_client
from core.domain.limits import HOUR
from core.domain.phone import phone_prefix
from core.domain.policy import GrowthPolicy
from core.ports import UnitOfWork


class FraudCheck:
    def __init__(self, policy: GrowthPolicy) -> None:
        self._policy = policy

    async def at_join(
        self, tx: UnitOfWork, referee: User, referrer: User, now: datetime
    ) -> list[Signal]:
        """Inside the activation's transaction, with the new referral already counted."""
        policy = self._policy
        signals = []
        recent = await tx.users.referrals_since(referrer.id, now - HOUR)
        if burst(recent, policy.fraud_referrals_per_hour):
            signals.append(Signal.BURST)
        if referrer.referral_count >= policy.fraud_same_prefix_min:
            prefix = phone_prefix(referee.phone, policy.prefix_digits)
            same = await tx.users.referrals_with_prefix(referrer.id, prefix)
            if same_prefix(
                same,
                referrer.referral_count,
                policy.fraud_same_prefix_share,
                policy.fraud_same_prefix_min,
            ):
                signals.append(Signal.SAME_PREFIX)
        if policy.fraud_shared_client:
            referrer_clients = await tx.users.clients(referrer.id)
            referee_clients = await tx.users.clients(referee.id)
            if any(shared_client(c, referrer_clients) for c in referee_clients):
                signals.append(Signal.SHARED_CLIENT)
        return signals

    def at_qualify(self, referee: User, now: datetime) -> list[Signal]:
        if referee.referred_at is not None and fast_qualify(
            referee.referred_at, now, self._policy.fraud_fast_qualify_seconds
        ):
            return [Signal.FAST_QUALIFY]
        return []
