"""A notifier whose target is set after the services are built (the bot tests' harness bot)."""

from __future__ import annotations

from core.domain.entities import User
from core.ports import ReferralNotifier


class ForwardingNotifier:
    def __init__(self, target: ReferralNotifier | None = None) -> None:
        self.target = target

    async def referral_joined(self, referrer: User, referral: User) -> None:
        if self.target is not None:
            await self.target.referral_joined(referrer, referral)
