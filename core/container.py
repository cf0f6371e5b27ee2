"""Building the services: the only place that chooses adapters.

``build_services(settings)`` opens the database engine, the SMS sender, the notifier and the
health probes, builds every use case over them once, and closes them all on exit. Each
process kind (``core.runtime``) calls it once and hands the result to its front ends.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from core.adapters.clock import SystemClock
from core.adapters.health import AllOf, RedisProbe
from core.adapters.metrics import PrometheusMetrics
from core.adapters.sms_log import ConsoleSmsSender, FileSmsSender
from core.ports import Clock, HealthProbe, Metrics, ReferralNotifier, SmsSender
from core.services import (
    AccountService,
    ApiKeyService,
    AuthService,
    LedgerService,
    ProgramService,
    ReferralService,
    Services,
    TokenService,
)
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


def make_notifier(settings: Settings, stack: AsyncExitStack) -> ReferralNotifier | None:
    """With BOT_TOKEN, people hear of their referrals in Telegram, from any process."""
    if settings.bot_token is None:
        return None
    from bot.app import create_bot
    from bot.notifier import TelegramNotifier

    bot = create_bot(settings)
    stack.push_async_callback(bot.session.close)
    return TelegramNotifier(bot)


@asynccontextmanager
async def build_services(
    settings: Settings,
    *,
    sms: SmsSender | None = None,
    clock: Clock | None = None,
    metrics: Metrics | None = None,
    notifier: ReferralNotifier | None = None,
) -> AsyncIterator[Services]:
    """Build every service once; the engine and the clients are closed on exit.

    The keyword arguments replace one adapter each (tests, benchmarks).
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
        program = ProgramService(uow, clock, settings.rewards)
        referrals = ReferralService(
            uow, clock, metrics, program, notifier or make_notifier(settings, stack)
        )
        probes: list[HealthProbe] = [SqlHealthProbe(engine)]
        if settings.redis_url is not None:
            redis_probe = RedisProbe(settings.redis_url.get_secret_value())
            stack.push_async_callback(redis_probe.aclose)
            probes.append(redis_probe)
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
            ),
            accounts=AccountService(uow),
            referrals=referrals,
            tokens=TokenService(uow, clock, settings.jwt),
            program=program,
            ledger=LedgerService(uow, clock, settings.rewards.unit),
            api_keys=ApiKeyService(uow, clock, settings.secret_key.get_secret_value()),
            health=AllOf(probes),
            metrics=metrics,
        )
