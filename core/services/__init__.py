"""Use cases, each one transaction, called by both transports."""

from __future__ import annotations

from dataclasses import dataclass

from core.ports import HealthProbe
from core.services.auth import AuthService, TelegramProfile
from core.services.metrics import Metrics
from core.services.referrals import ReferralService
from core.services.tokens import TokenService

__all__ = [
    "AuthService",
    "Metrics",
    "ReferralService",
    "Services",
    "TelegramProfile",
    "TokenService",
]


@dataclass(slots=True)
class Services:
    auth: AuthService
    referrals: ReferralService
    tokens: TokenService
    health: HealthProbe
    metrics: Metrics
