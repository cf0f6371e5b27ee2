"""Use cases, each one transaction, called by every front end."""

from __future__ import annotations

from dataclasses import dataclass

from core.ports import HealthProbe, Metrics
from core.services.accounts import AccountService
from core.services.admin import AdminService
from core.services.api_keys import ApiKeyService
from core.services.auth import AuthService, TelegramProfile
from core.services.delivery import DeliveryService
from core.services.growth import GrowthService
from core.services.leaderboard import LeaderboardService
from core.services.ledger import LedgerService
from core.services.program import ProgramService
from core.services.referrals import ReferralService
from core.services.tokens import TokenService
from core.services.webhooks import WebhookService

__all__ = [
    "AccountService",
    "AdminService",
    "ApiKeyService",
    "AuthService",
    "DeliveryService",
    "GrowthService",
    "LeaderboardService",
    "LedgerService",
    "ProgramService",
    "ReferralService",
    "Services",
    "TelegramProfile",
    "TokenService",
    "WebhookService",
]


@dataclass(frozen=True, slots=True)
class Services:
    """Everything a front end may call, built once per process by ``core.container``."""

    auth: AuthService
    accounts: AccountService
    referrals: ReferralService
    tokens: TokenService
    program: ProgramService
    ledger: LedgerService
    api_keys: ApiKeyService
    webhooks: WebhookService
    delivery: DeliveryService
    growth: GrowthService
    leaderboard: LeaderboardService
    admin: AdminService
    health: HealthProbe
    metrics: Metrics
