"""Building the services: the only place that chooses adapters.

``build_services(settings)`` opens the database engine, the SMS sender and the health probes,
builds every use case over them once, and closes them all on exit. Each
process kind (``core.runtime``) calls it once and hands the result to its front ends.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta

from core.adapters.clock import SystemClock
from core.adapters.health import AllOf, RedisProbe
from core.adapters.metrics import PrometheusMetrics
from core.adapters.sms_log import ConsoleSmsSender, FileSmsSender
from core.adapters.webhook_sender import HttpWebhookSender
from core.ports import (
    Clock,
    HealthProbe,
    InviteLinks,
    Metrics,
    SmsSender,
    TelegramSender,
    WebhookSender,
)
from core.services import (
    AccountService,
    AdminService,
    ApiKeyService,
    AuthService,
    DeliveryService,
    GrowthService,
    LeaderboardService,
    LedgerService,
    ProgramService,
    ReferralService,
    Services,
    TokenService,
    WebhookService,
)
from core.services.fraud import FraudCheck
from core.settings import Settings
from db.engine import make_engine
from db.uow import SqlHealthProbe, SqlUnitOfWorkFactory

log = logging.getLogger(__name__)


async def make_sms_sender(settings: Settings, stack: AsyncExitStack) -> SmsSender:
    sms = settings.sms
    if sms.backend == "smsaero":
        from core.adapters.sms_aero import SmsAeroSender

        sender = await SmsAeroSender.create(sms, threads=sms.concurrency)
        stack.push_async_callback(sender.aclose)
        return sender
    if sms.backend == "file":
        log.warning("SMS codes are written to %s (development only)", sms.file)
        return FileSmsSender(sms.file)
    log.warning("SMS codes are printed to this log (development only)")
    return ConsoleSmsSender()


@asynccontextmanager
async def build_services(
    settings: Settings,
    *,
    sms: SmsSender | None = None,
    clock: Clock | None = None,
    metrics: Metrics | None = None,
    telegram: TelegramSender | None = None,
    webhooks: WebhookSender | None = None,
    links: InviteLinks | None = None,
) -> AsyncIterator[Services]:
    """Build every service once; the engine and the clients are closed on exit.

    ``telegram`` is the bot's sender for the worker's messages (only the processes that run a
    worker pass one). The other keyword arguments replace one adapter each (tests, benchmarks).
    """
    settings.ensure_can_start()
    async with AsyncExitStack() as stack:
        engine = make_engine(
            settings.db_url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow
        )
        stack.push_async_callback(engine.dispose)
        uow = SqlUnitOfWorkFactory(engine)
        clock = clock or SystemClock()
        metrics = metrics or PrometheusMetrics()
        sender = sms or await make_sms_sender(settings, stack)
        program = ProgramService(uow, clock, settings.rewards, FraudCheck(settings.growth))
        referrals = ReferralService(uow, clock, metrics, program)
        probes: list[HealthProbe] = [SqlHealthProbe(engine)]
        if settings.redis_url is not None:
            redis_probe = RedisProbe(settings.redis_url.get_secret_value())
            stack.push_async_callback(redis_probe.aclose)
            probes.append(redis_probe)
        if webhooks is None:
            sender_client = HttpWebhookSender()
            stack.push_async_callback(sender_client.aclose)
            webhooks = sender_client
        worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        if links is None:
            from bot.links import BotLinks

            bot_links = BotLinks(settings)
            stack.push_async_callback(bot_links.aclose)
            links = bot_links
        yield Services(
            auth=AuthService(
                uow,
                sender,
                clock,
                settings.otp,
                settings.limits,
                settings.secret_key.get_secret_value(),
                referrals,
                metrics,
                attribution=timedelta(days=settings.attribution_window_days),
            ),
            accounts=AccountService(uow, clock),
            referrals=referrals,
            tokens=TokenService(uow, clock, settings.jwt),
            program=program,
            ledger=LedgerService(uow, clock, settings.rewards.unit),
            api_keys=ApiKeyService(uow, clock, settings.secret_key.get_secret_value()),
            webhooks=WebhookService(uow, clock, allow_http=not settings.is_production),
            growth=GrowthService(uow, clock, settings.growth, links),
            leaderboard=LeaderboardService(uow, clock),
            admin=AdminService(uow, clock, program, referrals),
            delivery=DeliveryService(
                uow,
                clock,
                metrics,
                settings.delivery,
                webhooks=webhooks,
                telegram=telegram,
                worker_id=worker_id,
            ),
            health=AllOf(probes),
            metrics=metrics,
        )
